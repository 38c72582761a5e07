// The status bar item: active scorer, Ollama reachability, shadowing (text from status.ts).

import * as vscode from "vscode";

import { statusView, type ClientState } from "./status";

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("semanticScout.status", vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = "Semantic Scout";
    this.item.command = "semanticScout.statusMenu";
    this.update({ phase: "stopped" });
    this.item.show();
  }

  update(state: ClientState): void {
    const view = statusView(state);
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip);
    tooltip.supportThemeIcons = true;
    this.item.tooltip = tooltip;
    this.item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
