/**
 * The parameter breakdown: labelled totals, a table of parameter groups with expandable children
 * (exact counts with thousands separators, and each group's share of the total), weight memory per
 * dtype in binary units with the exact bytes on hover, and the KV cache per token.
 */
import type { ModelInfo, ParamRow, ParamsInfo } from '../../protocol/webview';
import { h } from '../dom';
import { exactBytes, humanBytes, percent, thousands, toBigInt } from '../format';
import { button, dataGrid, gridCell, gridRow } from '../toolkit';

/** Row paths ("0", "0.2", …) that are expanded; kept across re-renders of the same table. */
const expanded = new Set<string>();
let expandedFor: ParamsInfo | undefined;

/** The total that counts everything: the one labelled "Total", else the first. */
export function grandTotal(params: ParamsInfo): ParamsInfo['totals'][number] | undefined {
  return params.totals.find((t) => /^total\b/i.test(t.label.trim())) ?? params.totals[0];
}

/** Paths of the rows shown, depth-first, given which rows are expanded. */
export function visibleRows(
  rows: readonly ParamRow[],
  isOpen: (path: string) => boolean,
  prefix = '',
): { row: ParamRow; path: string; depth: number }[] {
  const out: { row: ParamRow; path: string; depth: number }[] = [];
  rows.forEach((row, i) => {
    const path = prefix ? `${prefix}.${i}` : String(i);
    out.push({ row, path, depth: prefix ? prefix.split('.').length : 0 });
    if (row.children?.length && isOpen(path)) out.push(...visibleRows(row.children, isOpen, path));
  });
  return out;
}

export function paramTable(
  params: ParamsInfo | undefined,
  model: ModelInfo | undefined,
  rerender: () => void,
): HTMLElement {
  if (!params) {
    return h(
      'div',
      { class: 'placeholder placeholder-inline' },
      h('p', { class: 'hint', text: 'Counting parameters…' }),
    );
  }
  if (expandedFor !== params) {
    // A table with other rows starts collapsed; a recount of the same model keeps what was open.
    if (expandedFor === undefined || params.rows.length !== expandedFor.rows.length) {
      expanded.clear();
    }
    expandedFor = params;
  }
  const total = grandTotal(params);
  const toggle = (path: string) => {
    if (expanded.has(path)) expanded.delete(path);
    else expanded.add(path);
    rerender();
  };

  const totals = h(
    'div',
    { class: 'param-totals' },
    ...params.totals.map((t) =>
      h(
        'div',
        { class: `param-total${t === total ? ' param-total-main' : ''}` },
        h('div', { class: 'param-total-label', text: t.label }),
        h('div', {
          class: 'param-total-count num',
          text: thousands(t.count),
          attrs:
            t === total
              ? { 'data-testid': 'param-total', title: `${t.label}: ${thousands(t.count)} parameters` }
              : {},
        }),
        t.note ? h('div', { class: 'param-total-note', text: t.note }) : null,
      ),
    ),
  );

  const expandable = params.rows.some((r) => r.children?.length);
  const tools = expandable
    ? h(
        'div',
        { class: 'table-tools' },
        button({
          label: 'Expand all',
          focusKey: 'params-expand-all',
          onClick: () => {
            for (const { path, row } of visibleRows(params.rows, () => true))
              if (row.children?.length) expanded.add(path);
            rerender();
          },
        }),
        button({
          label: 'Collapse all',
          focusKey: 'params-collapse-all',
          onClick: () => (expanded.clear(), rerender()),
        }),
      )
    : null;

  const rows: HTMLElement[] = [];
  for (const { row, path, depth } of visibleRows(params.rows, (p) => expanded.has(p))) {
    const open = expanded.has(path);
    const name = gridCell('param-name');
    name.style.paddingLeft = `${8 + depth * 18}px`;
    if (row.children?.length) {
      name.append(
        h('button', {
          class: 'twistie',
          text: open ? '▾' : '▸',
          attrs: {
            type: 'button',
            'aria-expanded': open ? 'true' : 'false',
            'aria-label': `${open ? 'Collapse' : 'Expand'} ${row.name}`,
            'data-focus-key': `param-${path}`,
          },
          on: { click: () => toggle(path) },
        }),
      );
    } else {
      name.append(h('span', { class: 'twistie-space', attrs: { 'aria-hidden': 'true' } }));
    }
    name.append(h('span', { text: row.name, attrs: { title: row.name } }));
    rows.push(
      gridRow(
        [
          name,
          { text: thousands(row.count), class: 'num' },
          { text: total ? percent(row.count, total.count) : '', class: 'num share' },
          { text: row.note ?? '', class: 'param-note' },
        ],
        { 'aria-level': depth + 1 },
        depth === 0 ? 'param-row top' : 'param-row',
      ),
    );
  }
  const table = dataGrid(
    [
      { title: 'Group', width: 'minmax(12em, 3fr)' },
      { title: 'Parameters', width: 'minmax(8em, 1fr)', class: 'num' },
      { title: 'Share', width: 'minmax(5em, 0.6fr)', class: 'num' },
      { title: 'Note', width: 'minmax(8em, 3fr)' },
    ],
    'Parameters by group',
    rows,
    'param-table',
  );

  return h(
    'section',
    { class: 'params-view', attrs: { 'aria-label': 'Parameters' } },
    totals,
    h('div', { class: 'section-head' }, h('h3', { class: 'section-title', text: 'Breakdown' }), tools),
    table,
    memorySection(params, model),
  );
}

function bytesCell(bytes: string): HTMLElement {
  return h('td', { class: 'num', text: humanBytes(bytes), attrs: { title: exactBytes(bytes) } });
}

function memorySection(params: ParamsInfo, model: ModelInfo | undefined): HTMLElement {
  const rows = params.memory.map((m) =>
    h(
      'tr',
      {},
      h('td', { text: m.dtype }),
      bytesCell(m.bytes),
      h('td', { class: 'num dim', text: exactBytes(m.bytes) }),
    ),
  );
  const kv = params.kvCacheBytesPerToken;
  const kvTable = kv
    ? h(
        'table',
        { class: 'data-table memory-table', attrs: { 'aria-label': 'KV cache' } },
        h('tbody', {}, ...kvRows(kv, model?.tokens.length)),
      )
    : null;
  return h(
    'div',
    { class: 'memory' },
    h(
      'div',
      { class: 'memory-block' },
      h('h3', { class: 'section-title', text: 'Weight memory' }),
      h(
        'table',
        { class: 'data-table memory-table', attrs: { 'aria-label': 'Weight memory per dtype' } },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { text: 'dtype', attrs: { scope: 'col' } }),
            h('th', { class: 'num', text: 'size', attrs: { scope: 'col' } }),
            h('th', { class: 'num', text: 'exact', attrs: { scope: 'col' } }),
          ),
        ),
        h('tbody', {}, ...rows),
      ),
    ),
    kvTable
      ? h('div', { class: 'memory-block' }, h('h3', { class: 'section-title', text: 'KV cache' }), kvTable)
      : null,
  );
}

function kvRows(perToken: string, inputTokens: number | undefined): HTMLElement[] {
  const rows = [h('tr', {}, h('td', { text: 'per token' }), bytesCell(perToken))];
  const per = toBigInt(perToken);
  if (per !== undefined && inputTokens) {
    const n = BigInt(inputTokens);
    rows.push(
      h(
        'tr',
        {},
        h('td', { text: `this input (${thousands(inputTokens)} ${inputTokens === 1 ? 'token' : 'tokens'})` }),
        bytesCell((per * n).toString()),
      ),
    );
  }
  if (per !== undefined) {
    for (const context of [2048, 32768]) {
      rows.push(
        h(
          'tr',
          {},
          h('td', { text: `${thousands(context)} tokens` }),
          bytesCell((per * BigInt(context)).toString()),
        ),
      );
    }
  }
  return rows;
}
