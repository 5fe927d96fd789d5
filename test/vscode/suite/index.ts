// Entry point that VS Code's extension host loads for `--extensionTestsPath`: runs every compiled
// `*.test.js` beside it with mocha (spec reporter, so the run ends with "N passing" / "N failing").
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

/**
 * The extension host's console reaches the test launcher through the workbench's log, mixed with the
 * workbench's own messages; this marker tells the launcher which lines are the suite's.
 */
const MARK = '[ti-suite] ';

function markConsole(): () => void {
  // VS Code's extension host installs console.* as accessors whose setter ignores assignments:
  // redefine the properties (and restore the original descriptors afterwards).
  const methods = ['log', 'info', 'warn', 'error'] as const;
  const descriptors = methods.map((m) => Object.getOwnPropertyDescriptor(console, m));
  const forward = methods.map((m) => console[m]);
  methods.forEach((m, i) => {
    const mark = (...args: unknown[]) => forward[i].call(console, MARK + format(...args));
    Object.defineProperty(console, m, { value: mark, configurable: true, writable: true });
  });
  // mocha's reporters print through a reference to console.log taken when mocha was loaded
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const baseLog = base.consoleLog;
  base.consoleLog = (...args: unknown[]) => forward[0].call(console, MARK + format(...args));
  return () => {
    methods.forEach((m, i) => {
      const d = descriptors[i];
      if (d) Object.defineProperty(console, m, d);
    });
    base.consoleLog = baseLog;
  };
}

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, reporter: 'spec', timeout: 30_000, slow: 5_000 });
  const grep = process.env.TI_VSCODE_GREP;
  if (grep) mocha.grep(grep);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  if (files.length === 0)
    throw new Error(`no *.test.js in ${__dirname}: build the suite with node test/vscode/build.mjs`);
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  const restore = markConsole();
  try {
    await new Promise<void>((resolve, reject) => {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
    });
  } finally {
    restore();
  }
}
