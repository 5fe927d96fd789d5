import type { Analysis } from './index';
import type { ComponentNode } from './params';
import { CATEGORIES } from './params';
import { formatBytes, formatCount, formatFlops, formatShort, formatWeightBytes } from './report';

/** The readable form of an analysis: aligned text tables, as `transformer-inspector params PATH` prints. */

interface Row {
  cells: string[];
}

/** Left-align the first column, right-align numbers, leave the last column free. */
function table(rows: Row[], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows)
    r.cells.slice(0, -1).forEach((c, k) => (widths[k] = Math.max(widths[k] ?? 0, [...c].length)));
  return rows
    .map((r) =>
      (
        indent +
        r.cells
          .map((c, k) => {
            if (k === r.cells.length - 1) return c;
            const w = widths[k];
            const n = [...c].length;
            return k === 0 ? c + ' '.repeat(w - n) : ' '.repeat(w - n) + c;
          })
          .join('  ')
      ).trimEnd(),
    )
    .join('\n');
}

const shape = (s: readonly bigint[]): string => `[${s.join(' × ')}]`;

function componentRows(n: ComponentNode, depth: number, rows: Row[], maxDepth: number): void {
  const pad = '  '.repeat(depth);
  const times = n.count !== undefined ? `×${formatCount(n.count)}` : '';
  const tags = [
    n.only === 'base'
      ? 'base model only, not in the total'
      : n.only === 'task'
        ? 'task head'
        : n.only === 'extra'
          ? 'not in the total'
          : '',
    n.count !== undefined && n.each !== undefined
      ? `${formatCount(n.each)} each${n.shared ? ', one shared copy' : ''}`
      : '',
    n.active !== undefined ? `active ${formatCount(n.active)}` : '',
    n.note ?? '',
  ].filter(Boolean);
  rows.push({ cells: [pad + n.name, times, formatCount(n.params), tags.join('; ')] });
  if (depth >= maxDepth) return;
  for (const t of n.tensors) {
    const note = t.tiedTo ? `tied to ${t.tiedTo}` : (t.note ?? '');
    rows.push({
      cells: [`${pad}  ${t.name}`, '', formatCount(t.params), `${shape(t.shape)}${note ? '  ' + note : ''}`],
    });
  }
  for (const c of n.children) componentRows(c, depth + 1, rows, maxDepth);
}

export function renderTable(a: Analysis, opts: { maxDepth?: number } = {}): string {
  const out: string[] = [];
  const p = a.params;
  const head = [
    a.family,
    a.modelClass,
    a.kind,
    `hidden ${a.hidden}`,
    `vocab ${formatCount(BigInt(a.vocab))}`,
  ];
  if (a.maxContext !== null) head.push(`context ${formatCount(BigInt(a.maxContext))}`);
  if (a.file) out.push(a.file);
  out.push(head.join(' · '), '');

  out.push(`Parameters of ${a.modelClass} (tied weights once)`);
  const rows: Row[] = [];
  componentRows(a.components, 0, rows, opts.maxDepth ?? 6);
  out.push(table(rows), '');

  out.push('Totals');
  out.push(
    table(
      a.conventions.map((c) => ({ cells: [c.label, formatCount(c.params), formatShort(c.params), c.note] })),
    ),
    '',
  );

  out.push(a.isMoe ? 'By kind (total / active per token)' : 'By kind');
  out.push(
    table(
      CATEGORIES.filter((k) => p.byCategory[k] > 0n).map((k) => ({
        cells: [
          k,
          formatCount(p.byCategory[k]),
          ...(a.isMoe ? [formatCount(p.activeByCategory[k])] : []),
          `${percent(p.byCategory[k], p.total)}`,
        ],
      })),
    ),
    '',
  );

  out.push('Weights');
  out.push(
    table(
      a.memory.map((m) => ({
        cells: [m.label, formatWeightBytes(m.bytes), `${m.stored ? 'as stored. ' : ''}${m.note ?? ''}`],
      })),
    ),
    '',
  );

  const kv = a.kv;
  out.push(`KV cache (${kv.dtype}, context ${formatCount(kv.context)}, batch ${formatCount(kv.batch)})`);
  if (kv.note) out.push(`  ${kv.note}`);
  else {
    const kvRows: Row[] = [
      {
        cells: [
          'per token',
          formatBytes(kv.bytesPerToken),
          `${formatCount(kv.bytesPerToken)} B = ${kv.formula}`,
        ],
      },
      {
        cells: [
          `${formatCount(kv.context)} tokens × ${formatCount(kv.batch)}`,
          formatBytes(kv.bytesForContext),
          kv.cross ? 'self-attention + cross-attention over a source of the same length' : '',
        ],
      },
    ];
    if (kv.naive)
      kvRows.push({
        cells: [
          'naive full K/V per token',
          formatBytes(kv.naive.bytesPerToken),
          `${formatCount(kv.naive.bytesPerToken)} B = ${kv.naive.formula}`,
        ],
      });
    if (kv.cross)
      kvRows.push({
        cells: [
          'cross-attention per source token',
          formatBytes(kv.cross.bytesPerSourceToken),
          kv.cross.formula,
        ],
      });
    out.push(table(kvRows));
  }
  out.push('');

  const f = a.flops;
  out.push(`Forward FLOPs per token (context ${formatCount(f.context)})`);
  const fRows: Row[] = f.breakdown
    .filter((b) => b.flops > 0n)
    .map((b) => ({ cells: [b.name, formatFlops(b.flops), percent(b.flops, f.perToken)] }));
  fRows.push({ cells: ['total', formatFlops(f.perToken), formatCount(f.perToken)] });
  if (f.encoderPerToken !== undefined)
    fRows.push({
      cells: [
        '  of which encoder / decoder',
        `${formatFlops(f.encoderPerToken)} / ${formatFlops(f.decoderPerToken ?? 0n)}`,
        '',
      ],
    });
  if (f.perSequence > 0n)
    fRows.push({
      cells: ['once per sequence (not above)', formatFlops(f.perSequence), 'pooler, classifier'],
    });
  out.push(table(fRows), '');

  if (a.buffers.length) {
    out.push('Buffers (not parameters)');
    out.push(table(a.buffers.map((b) => ({ cells: [b.name, shape(b.shape), b.note] }))), '');
  }
  if (a.notes.length) {
    out.push('Notes');
    for (const n of a.notes) out.push(`  - ${n}`);
    out.push('');
  }
  return out.join('\n');
}

function percent(part: bigint, whole: bigint): string {
  if (whole === 0n) return '';
  const tenths = (part * 1000n) / whole;
  return `${tenths / 10n}.${tenths % 10n}%`;
}
