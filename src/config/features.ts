import * as vscode from 'vscode';
import type { Analysis } from '../../engine/analysis/index';
import { isInspectorError } from '../../engine/errors';
import { parseJsonText, type JsonValue } from '../../engine/config/json';
import { COMMAND, CONTEXT, DIAGNOSTIC_SOURCE, INTERNAL_COMMAND } from '../ids';
import type { Log } from '../log';
import { configKind, type ConfigKind } from './recognise';
import { keyAtOffset, spanOfKey, syntaxErrors, type Span } from './locate';
import { analyze, keyFacts, totalLine, type AnalysisInput } from './facts';
import { describeKey } from './keys';
import { configProblems, mergeProblems } from './checks';
import { isReadableFile } from '../uris';

/** Diagnostics wait for typing to pause this long. */
const DIAGNOSTIC_DELAY_MS = 300;

/** For the tests: run pending diagnostics now. */
export interface ConfigFeatures {
  flushDiagnostics(): void;
}

const SELECTOR: vscode.DocumentSelector = [
  { language: 'json', pattern: '**/*.transformer.json' },
  { language: 'jsonc', pattern: '**/*.transformer.json' },
  { language: 'json', pattern: '**/config.json' },
  { language: 'jsonc', pattern: '**/config.json' },
];

/** The analysis of one version of a document: numbers, or the error that stopped it. */
type Result =
  | { kind: ConfigKind; input: AnalysisInput; analysis: Analysis }
  | { kind: ConfigKind; error: { message: string; key?: string }; syntax?: { span: Span; message: string }[]; json?: JsonValue };

/**
 * Hovers, a CodeLens and diagnostics for `*.transformer.json` and Hugging Face `config.json`, all from
 * the document's current text (not the file on disk), analysed once per document version.
 */
export function registerConfigFeatures(context: vscode.ExtensionContext, log: Log): ConfigFeatures {
  const cache = new Map<string, { version: number; result: Result | undefined }>();
  const resultOf = (doc: vscode.TextDocument): Result | undefined => {
    const key = doc.uri.toString();
    const hit = cache.get(key);
    if (hit && hit.version === doc.version) return hit.result;
    const result = analyseDocument(doc);
    cache.set(key, { version: doc.version, result });
    return result;
  };

  const diagnostics = vscode.languages.createDiagnosticCollection('transformerInspector');
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const lensesChanged = new vscode.EventEmitter<void>();
  const refresh = (doc: vscode.TextDocument) => {
    timers.delete(doc.uri.toString());
    const r = resultOf(doc);
    diagnostics.set(doc.uri, r ? toDiagnostics(doc, r) : []);
    lensesChanged.fire();
  };
  const schedule = (doc: vscode.TextDocument) => {
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => refresh(doc), DIAGNOSTIC_DELAY_MS));
  };
  const updateEditorContext = () => {
    const doc = vscode.window.activeTextEditor?.document;
    const isConfig = doc !== undefined && isReadableFile(doc.uri) && configKind(doc.uri.fsPath, doc.getText()) !== undefined;
    void vscode.commands.executeCommand('setContext', CONTEXT.configEditor, isConfig);
  };

  context.subscriptions.push(
    diagnostics,
    lensesChanged,
    { dispose: () => timers.forEach((t) => clearTimeout(t)) },
    vscode.languages.registerHoverProvider(SELECTOR, {
      provideHover(doc, position) {
        const r = resultOf(doc);
        if (!r) return undefined;
        const text = doc.getText();
        const at = keyAtOffset(text, doc.offsetAt(position));
        if (!at) return undefined;
        const md = hoverMarkdown(at.key, r);
        if (!md) return undefined;
        return new vscode.Hover(md, new vscode.Range(doc.positionAt(at.span.offset), doc.positionAt(at.span.offset + at.span.length)));
      },
    }),
    vscode.languages.registerCodeLensProvider(SELECTOR, {
      onDidChangeCodeLenses: lensesChanged.event,
      provideCodeLenses(doc) {
        const r = resultOf(doc);
        if (!r) return [];
        const top = new vscode.Range(0, 0, 0, 0);
        const summary =
          'analysis' in r
            ? new vscode.CodeLens(top, { title: `$(symbol-numeric) ${totalLine(r.analysis)}`, command: INTERNAL_COMMAND.openParameters, arguments: [doc.uri], tooltip: 'Show the parameter breakdown' })
            : new vscode.CodeLens(top, { title: `$(warning) ${r.error.message}`, command: '', tooltip: r.error.key ? `key '${r.error.key}'` : undefined });
        return [summary, new vscode.CodeLens(top, { title: '$(play) Inspect', command: COMMAND.open, arguments: [doc.uri], tooltip: 'Open this model in the Transformer Inspector' })];
      },
    }),
    vscode.commands.registerCommand(INTERNAL_COMMAND.openParameters, async (uri: unknown) => {
      if (!(uri instanceof vscode.Uri)) return;
      await vscode.commands.executeCommand(COMMAND.open, uri);
      await vscode.commands.executeCommand(COMMAND.showParameters);
    }),
    vscode.workspace.onDidOpenTextDocument((doc) => schedule(doc)),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0) schedule(e.document);
      if (e.document === vscode.window.activeTextEditor?.document) updateEditorContext();
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      cache.delete(doc.uri.toString());
      diagnostics.delete(doc.uri);
    }),
    vscode.window.onDidChangeActiveTextEditor(() => updateEditorContext()),
  );
  for (const doc of vscode.workspace.textDocuments) schedule(doc);
  updateEditorContext();
  log.info('config features ready: hovers, CodeLens and diagnostics for *.transformer.json and Hugging Face config.json');

  return {
    flushDiagnostics() {
      for (const [key, timer] of timers) {
        clearTimeout(timer);
        const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
        if (doc) refresh(doc);
      }
      timers.clear();
    },
  };
}

function analyseDocument(doc: vscode.TextDocument): Result | undefined {
  if (!isReadableFile(doc.uri) && doc.uri.scheme !== 'untitled') return undefined;
  const text = doc.getText();
  const file = doc.uri.fsPath;
  const kind = configKind(file, text);
  if (!kind) return undefined;
  const syntax = syntaxErrors(text);
  if (syntax.length > 0) return { kind, error: { message: syntax[0].message }, syntax };
  try {
    const json: JsonValue = parseJsonText(text, file);
    const input: AnalysisInput = { json, file, native: kind === 'native' };
    return { kind, input, analysis: analyze(input) };
  } catch (e) {
    if (!isInspectorError(e)) return { kind, error: { message: `internal error in the analysis: ${e instanceof Error ? e.message : String(e)}` } };
    return { kind, error: { message: e.message, ...(e.place.key ? { key: e.place.key } : {}) }, json: safeParse(text, file) };
  }
}

function safeParse(text: string, file: string): JsonValue | undefined {
  try {
    return parseJsonText(text, file);
  } catch {
    return undefined;
  }
}

function hoverMarkdown(key: string, r: Result): vscode.MarkdownString | undefined {
  // The meaning comes first (for native keys it is the schema's description, which VS Code's JSON
  // hover may also show once its language server is up; this hover must not depend on that).
  const description = describeKey(key, r.kind === 'native');
  const facts = 'analysis' in r ? keyFacts(key, r.analysis, r.input) : [];
  if (!description && facts.length === 0 && 'analysis' in r) return undefined;
  const md = new vscode.MarkdownString();
  md.supportThemeIcons = true;
  md.appendMarkdown(`**\`${key}\`**${description ? ` — ${escapeMd(description)}` : ''}\n\n`);
  for (const line of facts) md.appendMarkdown(`${line}\n\n`);
  if ('error' in r) md.appendMarkdown(`$(warning) The numbers wait for a valid config: ${escapeMd(r.error.message)}\n\n`);
  return md;
}

function toDiagnostics(doc: vscode.TextDocument, r: Result): vscode.Diagnostic[] {
  if (!('error' in r)) return [];
  const text = doc.getText();
  const range = (s: Span) => new vscode.Range(doc.positionAt(s.offset), doc.positionAt(s.offset + s.length));
  const make = (span: Span | undefined, message: string, severity: vscode.DiagnosticSeverity, code?: string) => {
    const d = new vscode.Diagnostic(span ? range(span) : new vscode.Range(0, 0, 0, Math.min(1, text.length)), message, severity);
    d.source = DIAGNOSTIC_SOURCE;
    if (code) d.code = code;
    return d;
  };
  if (r.syntax) return r.syntax.map((s) => make(s.span, s.message, vscode.DiagnosticSeverity.Error));
  // A native config is ours to judge; a Hugging Face config may be fine for transformers even when
  // the analysis cannot read it (an unknown family is only information).
  const severity =
    r.kind === 'native'
      ? vscode.DiagnosticSeverity.Error
      : /is not one the analysis knows/.test(r.error.message)
        ? vscode.DiagnosticSeverity.Information
        : vscode.DiagnosticSeverity.Warning;
  // Every problem at once, each on its key, the other keys of a conflict as related locations.
  const problems = mergeProblems(r.json !== undefined ? configProblems(r.json) : [], r.error);
  return problems.map((p) => {
    const d = make(p.key ? spanOfKey(text, p.key) : undefined, p.message, severity, p.key || undefined);
    const related = p.related.flatMap((k) => {
      const at = spanOfKey(text, k);
      return at ? [new vscode.DiagnosticRelatedInformation(new vscode.Location(doc.uri, range(at)), `'${k}' is part of this conflict`)] : [];
    });
    if (related.length) d.relatedInformation = related;
    return d;
  });
}

/** Escape what would change Markdown's reading (not `_`: underscores inside words are no emphasis). */
function escapeMd(s: string): string {
  return s.replace(/[\\`*{}[\]<>#|]/g, (c) => `\\${c}`);
}
