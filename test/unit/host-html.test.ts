import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, panelHtml } from '../../src/panel/html';

const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';

test('the CSP allows nothing by default, scripts only by nonce, the rest only from the extension', () => {
  assert.equal(
    contentSecurityPolicy(cspSource, 'abc'),
    `default-src 'none'; script-src 'nonce-abc'; style-src ${cspSource}; img-src ${cspSource} data:; font-src ${cspSource}`,
  );
});

test('the HTML carries the policy, one nonced script and the stylesheets', () => {
  const nonce = makeNonce();
  const html = panelHtml({ cspSource, nonce, scriptUri: `${cspSource}/dist/webview.js`, styleUris: [`${cspSource}/dist/webview.css`] });
  assert.match(html, new RegExp(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce.replace(/[+/=]/g, (c) => `\\${c}`)}';`));
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0], new RegExp(`nonce="${nonce.replace(/[+/=]/g, (c) => `\\${c}`)}"`));
  assert.match(html, /<link rel="stylesheet" href="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/dist\/webview\.css">/);
  assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
  assert.doesNotMatch(html, /<style|style="/, 'no inline styles (the policy would block them)');
});

test('nonces are fresh 128-bit values', () => {
  const a = makeNonce();
  assert.notEqual(a, makeNonce());
  assert.equal(Buffer.from(a, 'base64').length, 16);
});

test('attribute values are escaped', () => {
  const html = panelHtml({ cspSource, nonce: 'n', scriptUri: 'x"><script>alert(1)</script>', styleUris: [] });
  assert.doesNotMatch(html, /"><script>alert/);
});
