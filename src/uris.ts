import * as vscode from 'vscode';

/**
 * Files the engine can read: `file:` URIs, and `vscode-remote:` ones, which is how a remote window
 * (Remote-SSH, WSL, code-server) names files on the machine the extension host runs on.
 */
export function isReadableFile(uri: vscode.Uri): boolean {
  return uri.scheme === 'file' || uri.scheme === 'vscode-remote';
}

/** A path on the extension host's machine as a URI the window can show (dialogs, editors). */
export function uriForPath(fsPath: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (folder?.scheme === 'vscode-remote') return folder.with({ path: vscode.Uri.file(fsPath).path });
  return vscode.Uri.file(fsPath);
}
