/**
 * Export of an analysis view from the panel: the last answer of each analysis for this input is
 * kept (by the analysis' name) and written where the user says, as a figure or its data
 * (./analysis-export.ts makes the bytes).
 */
import * as vscode from 'vscode';
import type { Log } from '../log';
import type { AnalysisReply, AnalysisRequest } from '../../protocol/analyses';
import { exportAnalysis, type ExportFormat } from './analysis-export';

/** An analysis as asked and as the engine answered it. */
export interface AnalysisAnswer {
  request: AnalysisRequest;
  reply: AnalysisReply;
}

/**
 * Write `answer` (undefined: the analysis was not run) to `target`, or where the save dialog says;
 * `tokens` label the positions. The file written, or undefined when nothing was.
 */
export async function saveAnalysisAnswer(analysis: string, answer: AnalysisAnswer | undefined, format: ExportFormat, tokens: readonly string[] | undefined, log: Log, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (!answer || !tokens) {
    void vscode.window.showInformationMessage('Transformer Inspector: run the analysis first; there is nothing to export yet.');
    return undefined;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri =
    target ??
    (await vscode.window.showSaveDialog({
      title: `Export the ${analysis} view`,
      filters: { [format.toUpperCase()]: [format] },
      ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${analysis}.${format}`) } : {}),
    }));
  if (!uri) return undefined;
  const bytes = exportAnalysis(format, answer.request, answer.reply, tokens);
  await vscode.workspace.fs.writeFile(uri, bytes);
  log.info(`exported the ${analysis} view as ${format} to ${uri.fsPath}`);
  return uri;
}
