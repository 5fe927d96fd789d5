/**
 * Every Content-Security-Policy violation in the panel, counted and logged with what was refused:
 * `document.body.dataset.cspViolations` holds the count (absent while there is none), and each one is
 * a console error naming the directive and the source. Installed first by main.ts, so it sees what
 * the UI toolkit injects while it registers; the end-to-end and dev checks assert the count is 0.
 */
export function watchCsp(doc: Document = document): void {
  let count = 0;
  doc.addEventListener('securitypolicyviolation', (e: SecurityPolicyViolationEvent) => {
    count += 1;
    doc.body.dataset.cspViolations = String(count);
    const where = e.sourceFile ? ` at ${e.sourceFile}:${e.lineNumber}` : '';
    console.error(
      `Transformer Inspector: CSP refused ${e.blockedURI || 'an inline resource'} (${e.effectiveDirective})${where}${e.sample ? `: ${e.sample}` : ''}`,
    );
  });
}
