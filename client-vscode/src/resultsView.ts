// The results view: query -> risk -> file -> node, from `scout/results` (model in results.ts).

import * as vscode from "vscode";

import type { Result } from "./protocol";
import { buildTree, findItem, treeSignature, type ResultItem } from "./results";

export const RESULTS_VIEW = "semanticScout.results";

export class ResultsProvider implements vscode.TreeDataProvider<ResultItem> {
  private items: ResultItem[] = [];
  private parents = new Map<string, ResultItem>();
  private results: Result[] = [];
  private readonly changed = new vscode.EventEmitter<ResultItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  /** Returns false when the view would look the same (then only the JSON behind it changes). */
  setResults(results: Result[]): boolean {
    const items = buildTree(results);
    this.results = results;
    if (treeSignature(items) === treeSignature(this.items)) {
      const fresh = new Map<string, ResultItem>();
      const collect = (item: ResultItem) => {
        fresh.set(item.id, item);
        item.children.forEach(collect);
      };
      items.forEach(collect);
      const refresh = (item: ResultItem) => {
        item.json = fresh.get(item.id)?.json ?? item.json;
        item.children.forEach(refresh);
      };
      this.items.forEach(refresh);
      return false;
    }
    this.items = items;
    this.parents.clear();
    const walk = (item: ResultItem) => {
      for (const child of item.children) {
        this.parents.set(child.id, item);
        walk(child);
      }
    };
    this.items.forEach(walk);
    this.changed.fire(undefined);
    return true;
  }

  get all(): Result[] {
    return this.results;
  }

  find(id: string): ResultItem | undefined {
    return findItem(this.items, id);
  }

  getTreeItem(item: ResultItem): vscode.TreeItem {
    const state =
      item.children.length === 0
        ? vscode.TreeItemCollapsibleState.None
        : item.expanded
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed;
    const tree = new vscode.TreeItem(item.label, state);
    tree.id = item.id;
    tree.description = item.description;
    const tooltip = new vscode.MarkdownString(item.tooltip);
    tooltip.supportThemeIcons = false;
    tree.tooltip = tooltip;
    tree.contextValue = `scout.${item.kind}`;
    if (item.resourceUri) tree.resourceUri = vscode.Uri.parse(item.resourceUri);
    if (item.icon) {
      tree.iconPath = new vscode.ThemeIcon(item.icon.id, item.icon.color ? new vscode.ThemeColor(item.icon.color) : undefined);
    } else if (item.kind === "file") {
      tree.iconPath = vscode.ThemeIcon.File;
    }
    if (item.open) {
      const line = item.open.line;
      tree.command = {
        command: "vscode.open",
        title: "Open",
        arguments: [vscode.Uri.parse(item.open.uri), { selection: new vscode.Range(line, 0, line, 0), preview: true }],
      };
    }
    return tree;
  }

  /** When the view last asked for children (see ResultsView.settled). */
  lastFetch = 0;

  getChildren(item?: ResultItem): ResultItem[] {
    this.lastFetch = Date.now();
    return item ? item.children : this.items;
  }

  getParent(item: ResultItem): ResultItem | undefined {
    return this.parents.get(item.id);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export class ResultsView implements vscode.Disposable {
  readonly provider = new ResultsProvider();
  readonly view: vscode.TreeView<ResultItem>;

  constructor() {
    this.view = vscode.window.createTreeView(RESULTS_VIEW, { treeDataProvider: this.provider, showCollapseAll: true });
  }

  update(results: Result[]): void {
    this.provider.setResults(results);
    let high = 0;
    for (const r of results) {
      for (const g of r.groups) {
        if (g.risk != null && g.risk >= 4) for (const f of g.files) high += f.nodes.length;
      }
    }
    this.view.badge = high ? { value: high, tooltip: `${high} places likely to break` } : undefined;
  }

  /** Make the view visible and wait until it has fetched what it shows. Revealing an item while
   * the view is still loading its tree makes VS Code 1.100 put one group's children under
   * another (the e2e test caught it): reveal only a settled view. */
  async show(): Promise<void> {
    if (!this.view.visible) await vscode.commands.executeCommand(`${RESULTS_VIEW}.focus`);
    await this.settled();
  }

  private async settled(quietMs = 200, maxMs = 3000): Promise<void> {
    const until = Date.now() + maxMs;
    while (Date.now() < until && Date.now() - this.provider.lastFetch < quietMs) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Show the view with one answer selected. */
  async reveal(key: number): Promise<void> {
    await this.show();
    const item = this.provider.find(`q:${key}`);
    if (item) await this.view.reveal(item, { select: true, focus: false });
  }

  dispose(): void {
    this.view.dispose();
    this.provider.dispose();
  }
}
