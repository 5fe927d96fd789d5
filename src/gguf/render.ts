import type { GgufSummary } from '../../engine/cli/gguf';

/**
 * A GGUF file's metadata as the read-only view shows it (the `gguf --json --tensors` report, laid out):
 * the model (architecture, name, parameters, tensor bytes, memory at fp32/fp16 for comparison), its
 * hyperparameters (`{arch}.*`), the tokenizer summary (`tokenizer.*`), every other key, the tensors
 * grouped by ggml type with bytes and bits per weight, and each tensor. Pure; every string from the
 * file is escaped (a GGUF is untrusted input).
 */

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The architecture named in the metadata (`general.architecture`, shown JSON-quoted by the report). */
export function ggufArchitecture(s: GgufSummary): string | undefined {
  const raw = s.metadata['general.architecture'];
  if (raw === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Architectures the engine runs from a GGUF (engine/io/gguf-llama.ts). */
export const RUNNABLE_GGUF_ARCHITECTURES = ['llama'];

const n = (v: number) => v.toLocaleString('en-US');

export function humanBytes(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = b;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${b} B` : `${v.toFixed(v >= 10 ? 1 : 2)} ${units[u]}`;
}

function table(head: string[], rows: string[][], cls = ''): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`).join('\n');
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function keyRows(entries: [string, string][], prefix: string): string[][] {
  return entries.map(([k, v]) => [`<code>${escapeHtml(k.startsWith(prefix) ? k.slice(prefix.length) : k)}</code>`, `<code>${escapeHtml(v)}</code>`]);
}

/** The body of the view (inside <main>); `openLink` is the command URI that opens the inspector, when the architecture runs. */
export function renderGgufBody(s: GgufSummary, fileName: string, openLink?: string): string {
  const arch = ggufArchitecture(s);
  const entries = Object.entries(s.metadata);
  const hyper = arch ? entries.filter(([k]) => k.startsWith(`${arch}.`)) : [];
  const tokenizer = entries.filter(([k]) => k.startsWith('tokenizer.'));
  const general = entries.filter(([k]) => k.startsWith('general.'));
  const other = entries.filter(([k]) => !general.some((e) => e[0] === k) && !hyper.some((e) => e[0] === k) && !tokenizer.some((e) => e[0] === k));
  const tensors = Object.values(s.types).reduce((a, t) => a + t.tensors, 0);
  const runnable = arch !== undefined && RUNNABLE_GGUF_ARCHITECTURES.includes(arch);
  const open = runnable && openLink ? `<p><a class="button" href="${escapeHtml(openLink)}" data-testid="gguf-open">Open in Inspector</a></p>` : '';
  const notRunnable = runnable ? '' : `<p class="hint">The inspector runs GGUF files of the ${RUNNABLE_GGUF_ARCHITECTURES.join(', ')} architecture; this one (${escapeHtml(arch ?? 'none named')}) is shown, not run.</p>`;
  const facts = [
    ['Architecture', `<code data-testid="gguf-architecture">${escapeHtml(arch ?? '—')}</code>`],
    ['Format', `GGUF v${s.version}`],
    ['Parameters', `<span data-testid="gguf-parameters">${n(s.parameters)}</span> in ${n(tensors)} tensors`],
    ['Tensor data', `${humanBytes(s.tensor_bytes)} (${n(s.tensor_bytes)} bytes, ${s.parameters ? ((8 * s.tensor_bytes) / s.parameters).toFixed(2) : '—'} bits/weight on average)`],
    ['Same weights at fp16 / fp32', `${humanBytes(2 * s.parameters)} / ${humanBytes(4 * s.parameters)}`],
  ];
  const byType = Object.entries(s.types).map(([type, t]) => [
    `<code>${escapeHtml(type)}</code>`,
    n(t.tensors),
    n(t.parameters),
    `${n(t.bytes)} (${humanBytes(t.bytes)})`,
    t.parameters ? ((8 * t.bytes) / t.parameters).toFixed(2) : '—',
  ]);
  const tensorRows = (s.tensors ?? []).map((t) => [`<code>${escapeHtml(t.name)}</code>`, `<code>${escapeHtml(t.type)}</code>`, `[${t.shape.join(', ')}]`]);
  return [
    `<h1>${escapeHtml(fileName)}</h1>`,
    open,
    notRunnable,
    table(['', ''], facts.map(([a, b]) => [escapeHtml(a), b]), 'facts'),
    `<h2>Tensors by type</h2>`,
    table(['type', 'tensors', 'parameters', 'bytes', 'bits/weight'], byType, 'types'),
    hyper.length ? `<h2>Hyperparameters (${escapeHtml(arch!)}.*)</h2>${table(['key', 'value'], keyRows(hyper, `${arch}.`))}` : '',
    `<h2>Tokenizer</h2>${tokenizer.length ? table(['key', 'value'], keyRows(tokenizer, 'tokenizer.')) : '<p class="hint">No tokenizer in the metadata: the model runs on token ids.</p>'}`,
    general.length ? `<h2>General</h2>${table(['key', 'value'], keyRows(general, 'general.'))}` : '',
    other.length ? `<h2>Other metadata</h2>${table(['key', 'value'], keyRows(other, ''))}` : '',
    tensorRows.length ? `<details><summary>All ${n(tensorRows.length)} tensors</summary>${table(['name', 'type', 'shape'], tensorRows)}</details>` : '',
  ].join('\n');
}

export const GGUF_STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 8px 20px 24px; }
h1 { font-size: 1.3em; margin: 8px 0; }
h2 { font-size: 1.05em; margin: 20px 0 6px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 14px 3px 0; border-bottom: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); vertical-align: top; }
thead th { color: var(--vscode-descriptionForeground); }
tbody th { font-weight: normal; color: var(--vscode-descriptionForeground); }
code { font-family: var(--vscode-editor-font-family); }
.hint { color: var(--vscode-descriptionForeground); }
a.button { display: inline-block; padding: 4px 12px; background: var(--vscode-button-background); color: var(--vscode-button-foreground); text-decoration: none; border-radius: 2px; }
a.button:hover { background: var(--vscode-button-hoverBackground); }
summary { cursor: pointer; margin: 20px 0 6px; font-weight: 600; }
`;
