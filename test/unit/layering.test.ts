import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

/**
 * The layering that eslint.config.mjs holds: each probe is linted with the project's own config as if
 * it were a file at `filePath`, so a rule that stops matching (a renamed folder, a loosened pattern)
 * fails here rather than silently passing `npm run lint`.
 */
const root = join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: root, overrideConfigFile: join(root, 'eslint.config.mjs') });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: { file: string; code: string; allowed: boolean }[] = [
  // engine/ imports neither the host, the webview nor vscode; it may import the protocol.
  { file: 'engine/worker/probe.ts', code: "import type { Loaded } from '../../src/inspector/inspector';\nexport type X = Loaded;\n", allowed: false },
  { file: 'engine/probe.ts', code: "import { x } from '../src/ids';\nexport const y = x;\n", allowed: false },
  { file: 'engine/model/probe.ts', code: "import { x } from '../../webview/state';\nexport const y = x;\n", allowed: false },
  { file: 'engine/probe.ts', code: "import * as vscode from 'vscode';\nexport const y = vscode;\n", allowed: false },
  { file: 'engine/worker/probe.ts', code: "import type { Loaded } from '../../protocol/worker';\nexport type X = Loaded;\n", allowed: true },
  // webview/ imports neither the host nor the engine; it may import the protocol.
  { file: 'webview/components/probe.ts', code: "import { x } from '../../src/ids';\nexport const y = x;\n", allowed: false },
  { file: 'webview/probe.ts', code: "import { x } from '../engine/tensor';\nexport const y = x;\n", allowed: false },
  { file: 'webview/probe.ts', code: "import type { StepInfo } from '../protocol/webview';\nexport type X = StepInfo;\n", allowed: true },
  // protocol/ imports none of them.
  { file: 'protocol/probe.ts', code: "import { x } from '../engine/errors';\nexport const y = x;\n", allowed: false },
  { file: 'protocol/probe.ts', code: "import { x } from '../src/ids';\nexport const y = x;\n", allowed: false },
  { file: 'protocol/probe.ts', code: "import { x } from '../webview/state';\nexport const y = x;\n", allowed: false },
  { file: 'protocol/probe.ts', code: "import type { StepInfo } from './webview';\nexport type X = StepInfo;\n", allowed: true },
  // src/ (the host) may import everything.
  { file: 'src/engine/probe.ts', code: "import { x } from '../../engine/errors';\nimport * as vscode from 'vscode';\nexport const y = [x, vscode];\n", allowed: true },
];

for (const c of cases) {
  const imported = /from '([^']+)'/.exec(c.code)![1];
  test(`${c.file} ${c.allowed ? 'may' : 'may not'} import ${imported}`, async () => {
    const messages = await restricted(c.file, c.code);
    if (c.allowed) assert.deepEqual(messages, []);
    else assert.equal(messages.length, 1, `expected one no-restricted-imports error, got ${JSON.stringify(messages)}`);
  });
}

test('the tree itself keeps the layering (engine/, webview/, protocol/)', async () => {
  const results = await eslint.lintFiles(['engine/**/*.ts', 'webview/**/*.ts', 'protocol/**/*.ts']);
  const broken = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line} ${m.message}`));
  assert.deepEqual(broken, []);
});
