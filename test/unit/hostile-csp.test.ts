import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, panelHtml } from '../../src/panel/html';

// The panel's policy with the UI toolkit's style nonce (issue 9): still nothing inline without the
// nonce, and the nonce announced where FAST reads it. Chromium proof: webview/dev/toolkit-csp.mjs.
const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';

test('with styleNonce, styles come from the extension or carry the nonce; never unsafe-inline', () => {
  assert.equal(
    contentSecurityPolicy(cspSource, 'abc', { styleNonce: true }),
    `default-src 'none'; script-src 'nonce-abc'; style-src ${cspSource} 'nonce-abc'; img-src ${cspSource} data:; font-src ${cspSource}`,
  );
});

test('the HTML announces the same nonce in <meta property="csp-nonce"> for FAST', () => {
  const nonce = makeNonce();
  const html = panelHtml({ cspSource, nonce, scriptUri: `${cspSource}/dist/webview.js`, styleUris: [], styleNonce: true });
  const meta = html.match(/<meta property="csp-nonce" content="([^"]+)">/);
  assert.equal(meta?.[1], nonce);
  const script = html.match(/<script nonce="([^"]+)"/);
  assert.equal(script?.[1], nonce);
  assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
  assert.doesNotMatch(html, /<style|style="/);
  // Without the option nothing is announced.
  assert.doesNotMatch(panelHtml({ cspSource, nonce, scriptUri: 'x', styleUris: [] }), /csp-nonce|'nonce-[^']+'; img/);
});
