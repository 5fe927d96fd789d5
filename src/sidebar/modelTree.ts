import * as path from 'node:path';
import * as vscode from 'vscode';
import { nodeForStep, walkTree, type ModelNode, type NodeKind } from '../../protocol/tree';
import { INTERNAL_COMMAND, TREE_VIEW } from '../ids';
import type { Inspector } from '../inspector/inspector';
import { partOfNode, type AblationSet } from '../inspector/ablation-set';

const ICON: Record<NodeKind, string> = {
  model: 'symbol-class',
  stack: 'layers',
  embeddings: 'symbol-array',
  embedding: 'symbol-key',
  positions: 'symbol-ruler',
  block: 'symbol-namespace',
  attention: 'eye',
  head: 'circle-small',
  mlp: 'symbol-operator',
  norm: 'symbol-constant',
  lm_head: 'output',
};

/**
 * The "Model" view: the inspected model's modules with shapes and parameter counts (from the
 * engine), the node of the current step highlighted and revealed; clicking a node moves the
 * stepper to that module's step.
 */
export class ModelTreeProvider implements vscode.TreeDataProvider<ModelNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ModelNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<ModelNode>;
  private parents = new Map<string, ModelNode>();
  private tree: ModelNode | undefined;
  private current: ModelNode | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly inspector: Inspector) {
    this.view = vscode.window.createTreeView(TREE_VIEW, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      this.changed,
      inspector.onDidChange(() => this.refresh()),
      vscode.commands.registerCommand(INTERNAL_COMMAND.revealNode, (id: unknown) => this.revealStepOf(id)),
    );
    this.refresh();
  }

  getTreeItem(node: ModelNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      node.label,
      node.children.length === 0
        ? vscode.TreeItemCollapsibleState.None
        : node.kind === 'model' || node.kind === 'stack' || node === this.current || this.isAncestorOfCurrent(node)
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.id = node.id;
    const isCurrent = node === this.current;
    const params = node.parameters > 0 || node.kind !== 'head' ? `${node.parameters.toLocaleString('en-US')} params` : '';
    item.description = [isCurrent ? `◀ ${this.inspector.state.stepName?.split('.').pop() ?? ''}` : '', node.detail, params].filter(Boolean).join(' · ');
    item.iconPath = isCurrent ? new vscode.ThemeIcon('debug-stackframe', new vscode.ThemeColor('debugIcon.stepOverForeground')) : new vscode.ThemeIcon(ICON[node.kind]);
    item.tooltip = tooltip(node, isCurrent ? this.inspector.state.stepName : undefined, String(item.description ?? ''));
    item.contextValue = (node.reveal ? `node.${node.kind}.steppable` : `node.${node.kind}`) + ablationContext(node, this.inspector.ablation);
    if (item.contextValue.endsWith('.ablated')) item.description = `✕ ablated · ${String(item.description)}`;
    if (node.reveal && this.inspector.state.modelLoaded) {
      item.command = { command: INTERNAL_COMMAND.revealNode, title: 'Show This Step', arguments: [node.id] };
    }
    return item;
  }

  getChildren(node?: ModelNode): ModelNode[] {
    if (!node) return this.tree ? [this.tree] : [];
    return node.children;
  }

  getParent(node: ModelNode): ModelNode | undefined {
    return this.parents.get(node.id);
  }

  /** The node of the current step (for tests). */
  get currentNode(): ModelNode | undefined {
    return this.current;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private refresh(): void {
    const s = this.inspector.state;
    if (s.tree !== this.tree) {
      this.tree = s.tree;
      this.parents = new Map();
      if (this.tree) for (const { node, parent } of walkTree(this.tree)) if (parent) this.parents.set(node.id, parent);
    }
    this.current = this.tree && s.stepName ? nodeForStep(this.tree, s.stepName) : undefined;
    this.view.description = s.configPath ? path.basename(s.configPath) : undefined;
    this.view.message = s.configPath
      ? s.model
        ? s.model.seeded
          ? `Seeded random weights: no weights file beside ${path.basename(s.configPath)}.`
          : undefined
        : (s.failure ?? 'Loading…')
      : undefined;
    this.changed.fire(undefined);
    if (this.current && this.view.visible) {
      void this.view.reveal(this.current, { select: false, focus: false, expand: false }).then(undefined, () => undefined);
    }
  }

  private async revealStepOf(id: unknown): Promise<void> {
    if (typeof id !== 'string' || !this.tree) return;
    for (const { node } of walkTree(this.tree)) {
      if (node.id === id && node.reveal) {
        // The panel follows: its Step tab, at this module's step, at the head for a head node.
        await this.inspector.showStep(node.reveal, headOf(node));
        return;
      }
    }
  }

  private isAncestorOfCurrent(node: ModelNode): boolean {
    for (let p = this.current && this.parents.get(this.current.id); p; p = this.parents.get(p.id)) if (p === node) return true;
    return false;
  }
}

/** `.ablatable` or `.ablated` for a head, MLP or layer node (the context menu's Add to / Remove from Ablation). */
export function ablationContext(node: ModelNode, set: AblationSet): string {
  const part = partOfNode(node);
  return typeof part === 'string' ? '' : set.has(part) ? '.ablated' : '.ablatable';
}

/** The head index of a head node (`blocks.0.attn#head1` → 1). */
export function headOf(node: ModelNode): number | undefined {
  const m = node.kind === 'head' ? /#head(\d+)$/.exec(node.id) : null;
  return m ? Number(m[1]) : undefined;
}

/** Everything the row says (its description can be cut off in a narrow sidebar), and more. */
function tooltip(node: ModelNode, step: string | undefined, description: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${escape(node.label)}** — ${escape(node.detail)}\n\n`);
  if (description && description !== node.detail) md.appendMarkdown(`${escape(description)}\n\n`);
  md.appendMarkdown(`${node.parameters.toLocaleString('en-US')} parameters${node.kind === 'head' ? ' of its own (its slices are counted in the attention)' : ''}\n\n`);
  if (node.note) md.appendMarkdown(`${escape(node.note)}\n\n`);
  for (const t of node.tensors) md.appendMarkdown(`- \`${t.name}\` [${t.shape.join(', ')}]\n`);
  if (step) md.appendMarkdown(`\nCurrent step: \`${step}\``);
  return md;
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|]/g, (c) => `\\${c}`);
}
