import { randomBytes } from 'node:crypto';

/**
 * The panel's HTML, as the webview sample builds it: a strict Content-Security-Policy (nothing by
 * default; scripts only with this load's nonce; styles, images and fonts only from the extension's
 * own resources), one script, optional stylesheets. Pure, so the policy is unit-tested.
 *
 * With `styleNonce` (what the panel uses), styles may also carry this load's nonce, which the page
 * announces in `<meta property="csp-nonce">`: FAST (the base of @vscode/webview-ui-toolkit) puts that
 * nonce on the <style> elements it injects, so the toolkit's components run without 'unsafe-inline'
 * (microsoft/vscode-webview-ui-toolkit-samples#64; proven in Chromium by webview/dev/toolkit-csp.mjs).
 */

export interface PanelHtmlParts {
  /** `webview.cspSource`. */
  cspSource: string;
  scriptUri: string;
  styleUris: string[];
  nonce: string;
  /** Allow <style> elements carrying the nonce (for the UI toolkit); still no 'unsafe-inline'. */
  styleNonce?: boolean;
}

export function contentSecurityPolicy(cspSource: string, nonce: string, opts: { styleNonce?: boolean } = {}): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    opts.styleNonce ? `style-src ${cspSource} 'nonce-${nonce}'` : `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** 128 random bits, base64: a fresh nonce for every load of the HTML. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function panelHtml(p: PanelHtmlParts): string {
  const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const styles = p.styleUris.map((u) => `    <link rel="stylesheet" href="${attr(u)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(p.cspSource, p.nonce, { styleNonce: p.styleNonce }))}">
${p.styleNonce ? `    <meta property="csp-nonce" content="${attr(p.nonce)}">
` : ''}    <meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
    <title>Transformer Inspector</title>
  </head>
  <body>
    <div id="root"></div>
    <script nonce="${attr(p.nonce)}" src="${attr(p.scriptUri)}"></script>
  </body>
</html>
`;
}
