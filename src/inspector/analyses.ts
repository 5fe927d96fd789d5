/**
 * The host's side of the panel's analyses: a request from the webview with typed texts (a target
 * token, the corrupted input of patching) becomes the engine's request with ids, through the loaded
 * model's tokenizer. No `vscode` here, so it is unit-tested on its own.
 */
import type { AnalysisRequest } from '../../protocol/analyses';
import type { RequestTexts } from '../../protocol/analysis-request';
import { EngineError } from '../engine/client';

export type Tokenize = (text: string) => Promise<{ ids: number[]; tokens: string[] } | undefined>;

/** One token for a typed target: the text must tokenize to exactly one token (a leading space counts). */
async function oneToken(text: string, what: string, tokenize: Tokenize): Promise<number> {
  if (/^\d+$/.test(text.trim())) return Number(text.trim());
  const t = await tokenize(text);
  if (!t) throw new EngineError(`the ${what} "${text}" needs a tokenizer: give its id instead`, 'user');
  if (t.ids.length !== 1) throw new EngineError(`the ${what} "${text}" is ${t.ids.length} tokens (${t.tokens.map((x) => JSON.stringify(x)).join(' ')}); choose one token`, 'user');
  return t.ids[0];
}

/** The engine's request: typed texts tokenized, the corrupted input checked against the clean one's length. */
export async function resolveAnalysis(request: AnalysisRequest, texts: RequestTexts, cleanLength: number, tokenize: Tokenize): Promise<AnalysisRequest> {
  switch (request.analysis) {
    case 'lens':
      return texts.target !== undefined ? { ...request, target: await oneToken(texts.target, 'target', tokenize) } : request;
    case 'attribution': {
      const target = texts.target !== undefined ? await oneToken(texts.target, 'target', tokenize) : request.target;
      const versus = texts.versus !== undefined && texts.versus !== '' ? await oneToken(texts.versus, 'versus token', tokenize) : request.versus;
      return { ...request, target, ...(versus !== undefined ? { versus } : {}) };
    }
    case 'patching': {
      const target = texts.target !== undefined ? await oneToken(texts.target, 'target', tokenize) : request.target;
      const versus = texts.versus !== undefined ? await oneToken(texts.versus, 'versus token', tokenize) : request.versus;
      let corrupted = request.corrupted;
      if (texts.corrupted !== undefined) {
        const t = await tokenize(texts.corrupted);
        if (!t) throw new EngineError('the corrupted input needs a tokenizer: this model takes ids', 'user');
        corrupted = t.ids;
      }
      if (corrupted.length !== cleanLength)
        throw new EngineError(`the corrupted input is ${corrupted.length} tokens and the clean one ${cleanLength}: patching needs inputs of the same length`, 'user');
      return { ...request, target, versus, corrupted };
    }
    default:
      return request;
  }
}

/** What the busy line says while an analysis runs. */
export function analysisTitle(request: AnalysisRequest): string {
  switch (request.analysis) {
    case 'lens':
      return 'Logit lens over every layer';
    case 'attribution':
      return 'Attributing the logit to heads and MLPs';
    case 'heads':
      return 'Scoring every head (previous-token, duplicate, induction)';
    case 'ablation':
      return 'Ablating and rerunning';
    case 'patching':
      return 'Patching the clean run into the corrupted one';
    case 'rollout':
      return 'Attention rollout';
  }
}
