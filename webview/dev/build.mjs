// Builds the webview dev harness into out/webview-dev/ (git-ignored, never shipped):
// the real webview bundle plus a fake host that plays the extension's messages.
//   node webview/dev/build.mjs
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';

const out = 'out/webview-dev';
mkdirSync(out, { recursive: true });
const common = {
  bundle: true,
  sourcemap: true,
  logLevel: 'warning',
  target: 'es2022',
  platform: 'browser',
  format: 'iife',
};
await esbuild.build({ ...common, entryPoints: ['webview/main.ts'], outfile: `${out}/webview.js` });
await esbuild.build({ ...common, entryPoints: ['webview/dev/fake-host.ts'], outfile: `${out}/fake-host.js` });
copyFileSync('webview/dev/index.html', `${out}/index.html`);
// Real engine output for the llama* scenarios (recorded once; TI_RECORD=1 records again).
if (!existsSync(`${out}/recorded.js`) || process.env.TI_RECORD === '1') {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/record-webview-dev.ts'], { stdio: 'inherit' });
}
console.log(`built ${out}/`);
