import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { COMMAND, CONTEXT, TREE_VIEW, VIEW_CONTAINER, VIEW_TYPE, SETTING } from '../../src/ids';
import { NATIVE_KEYS } from '../../engine/config/native';

interface Manifest {
  main: string;
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string; category: string; enablement?: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    keybindings: { command: string; key: string; when: string }[];
    viewsContainers: { activitybar: { id: string; icon: string }[] };
    views: Record<string, { id: string }[]>;
    viewsWelcome: { view: string; contents: string }[];
    jsonValidation: { fileMatch: string; url: string }[];
    configuration: { properties: Record<string, unknown> };
  };
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;
const schema = JSON.parse(readFileSync('schemas/transformer.schema.json', 'utf8')) as { properties: Record<string, { type?: string; description?: string }>; additionalProperties: boolean };

test('every command id in src/ids.ts is contributed with the exact title, and only those', () => {
  const titles: Record<string, string> = {
    open: 'Open Inspector',
    setInput: 'Set Input…',
    stepForward: 'Step Forward',
    stepBack: 'Step Back',
    runToEnd: 'Run to End',
    reset: 'Reset',
    showParameters: 'Show Parameter Breakdown',
    exportTensor: 'Export Current Tensor…',
    quantizeModel: 'Quantize Model…',
    compareWith: 'Compare With…',
    addToAblation: 'Add to Ablation',
    removeFromAblation: 'Remove from Ablation',
    generateNextToken: 'Generate Next Token',
  };
  const contributed = new Map(pkg.contributes.commands.map((c) => [c.command, c]));
  assert.equal(contributed.size, Object.keys(COMMAND).length);
  for (const [k, id] of Object.entries(COMMAND)) {
    const c = contributed.get(id);
    assert.ok(c, `${id} is contributed`);
    assert.equal(c.title, titles[k]);
    assert.equal(c.category, 'Transformer Inspector');
  }
});

test('when clauses use only the context keys the host sets (and VS Code built-ins)', () => {
  const ours = new Set<string>(Object.values(CONTEXT));
  const clauses = [
    ...pkg.contributes.commands.map((c) => c.enablement ?? ''),
    ...Object.values(pkg.contributes.menus).flat().map((m) => m.when ?? ''),
    ...pkg.contributes.keybindings.map((k) => k.when),
  ];
  for (const w of clauses) {
    for (const key of w.match(/transformerInspector\.\w+/g) ?? []) {
      if (key === TREE_VIEW || key === VIEW_TYPE) continue;
      assert.ok(ours.has(key), `${key} in "${w}" is set by the host`);
    }
  }
  for (const k of pkg.contributes.keybindings) assert.match(k.when, new RegExp(`activeWebviewPanelId == '${VIEW_TYPE.replace('.', '\\.')}'`));
});

test('views, container, welcome view, activation and JSON validation line up', () => {
  assert.equal(pkg.main, './dist/extension.js');
  assert.equal(pkg.contributes.viewsContainers.activitybar[0].id, VIEW_CONTAINER);
  assert.ok(existsSync(pkg.contributes.viewsContainers.activitybar[0].icon), 'the activity bar icon exists');
  assert.equal(pkg.contributes.views[VIEW_CONTAINER][0].id, TREE_VIEW);
  assert.match(pkg.contributes.viewsWelcome[0].contents, new RegExp(`command:${COMMAND.open.replace('.', '\\.')}`));
  assert.ok(pkg.activationEvents.includes(`onWebviewPanel:${VIEW_TYPE}`));
  assert.ok(pkg.activationEvents.includes('workspaceContains:**/*.transformer.json'));
  assert.deepEqual(pkg.contributes.jsonValidation, [{ fileMatch: '*.transformer.json', url: './schemas/transformer.schema.json' }]);
  assert.ok(`${SETTING.section}.${SETTING.openOnStartup}` in pkg.contributes.configuration.properties);
});

test('the schema covers exactly the native keys, each with a type and a description', () => {
  assert.deepEqual(Object.keys(schema.properties).sort(), [...NATIVE_KEYS].sort());
  assert.equal(schema.additionalProperties, false, 'the engine rejects unknown keys, so does the schema');
  for (const [k, p] of Object.entries(schema.properties)) {
    assert.ok(p.type, `${k} has a type`);
    assert.ok(p.description && p.description.length > 10, `${k} has a description`);
  }
});
