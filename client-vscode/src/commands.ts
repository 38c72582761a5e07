// Palette commands (category "Semantic Scout") and the handling of every command's answer.
// Palette ids are the client's own (`semanticScout.*`); they prompt, then send the server's
// `scout.*` command with workspace/executeCommand.

import * as vscode from "vscode";

import {
  candidatePicks,
  changePicks,
  EXPORT_DESCRIPTIONS,
  isAnswer,
  outcomeOf,
  questionTemplate,
  SCORER_DESCRIPTIONS,
  withTarget,
} from "./answers";
import { API_KEY_SECRET, type ScoutClient } from "./client";
import { EXPORT_FORMATS, SCORERS, ServerCommand, type Answer, type Status } from "./protocol";
import type { ResultsView } from "./resultsView";
import type { ResultItem } from "./results";
import { indexText } from "./status";

const HASKELL_LANGUAGES = new Set(["haskell", "literate haskell"]);
const ASKING = new Set<string>([ServerCommand.ask, ServerCommand.scoutAt]);

export class Commands {
  constructor(
    private readonly scout: ScoutClient,
    private readonly results: ResultsView,
  ) {}

  register(context: vscode.ExtensionContext): void {
    const reg = (id: string, fn: (...args: never[]) => Promise<unknown>) =>
      context.subscriptions.push(vscode.commands.registerCommand(id, (...args: never[]) => this.guard(() => fn(...args))));
    reg("semanticScout.ask", () => this.ask());
    reg("semanticScout.scoutAtCursor", () => this.scoutAtCursor());
    reg("semanticScout.showResults", () => this.showResults());
    reg("semanticScout.clearResults", () => this.clearResults());
    reg("semanticScout.export", () => this.exportData());
    reg("semanticScout.selectScorer", () => this.selectScorer());
    reg("semanticScout.toggleShadow", () => this.toggleShadow());
    reg("semanticScout.setApiKey", () => this.setApiKey(context));
    reg("semanticScout.agreement", () => this.agreement());
    reg("semanticScout.indexStatus", () => this.indexStatus());
    reg("semanticScout.restartServer", () => this.scout.restart());
    reg("semanticScout.showLog", async () => this.scout.log.show(true));
    reg("semanticScout.refreshResults", () => this.refreshResults());
    reg("semanticScout.copyAsJson", (item?: ResultItem) => this.copyAsJson(item));
    reg("semanticScout.statusMenu", () => this.statusMenu());
  }

  private async guard(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      const pick = await vscode.window.showErrorMessage(`Semantic Scout: ${(e as Error).message}`, "Show Server Log");
      if (pick) this.scout.log.show(true);
    }
  }

  /** Runs a server command with a progress indicator; the answer is handled in onAnswer. */
  private async run(command: (typeof ServerCommand)[keyof typeof ServerCommand], arg?: unknown, title?: string): Promise<Answer | undefined> {
    const answer = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `Semantic Scout: ${title ?? command}` },
      () => this.scout.executeCommand(command, arg),
    );
    return isAnswer(answer) && answer.status === "ok" ? answer : undefined;
  }

  /** Every answer, from the palette, a code action or a code lens. */
  async onAnswer(command: string, arg: unknown, answer: unknown): Promise<void> {
    const outcome = outcomeOf(answer);
    switch (outcome.kind) {
      case "ok": {
        const info = outcome.answer.statusInfo;
        if (info) this.scout.setStatus(info);
        if (ASKING.has(command) && outcome.result) {
          await this.refreshResults();
          await this.results.reveal(outcome.result.key);
          vscode.window.setStatusBarMessage(`$(telescope) ${outcome.message}`, 8000);
          if (outcome.result.coverage?.partial) void vscode.window.showWarningMessage(`Semantic Scout: ${outcome.message}`);
        } else if (command === ServerCommand.showResults) {
          // A lens asks for its own answer ({key}): the view keeps every answer and selects it.
          await this.refreshResults();
          const key = (arg as { key?: unknown } | undefined)?.key;
          if (typeof key === "number") await this.results.reveal(key);
          else await this.results.show();
        }
        return;
      }
      case "ambiguous": {
        const pick = await vscode.window.showQuickPick(candidatePicks(outcome.candidates), {
          title: "Semantic Scout: which one?",
          placeHolder: outcome.message,
          matchOnDescription: true,
          matchOnDetail: true,
        });
        if (pick && (command === ServerCommand.ask || command === ServerCommand.scoutAt)) {
          await this.run(command, withTarget(arg, pick.qualified), "scouting");
        }
        return;
      }
      case "not_understood": {
        const actions = outcome.suggestion ? [`Ask: ${outcome.suggestion}`] : [];
        const pick = await vscode.window.showWarningMessage(`Semantic Scout: ${outcome.message}`, ...actions);
        if (pick && outcome.suggestion) {
          const base = typeof arg === "object" && arg !== null ? arg : {};
          await this.run(ServerCommand.ask, { ...base, question: outcome.suggestion }, "scouting");
        }
        return;
      }
      case "error": {
        const pick = await vscode.window.showErrorMessage(`Semantic Scout: ${outcome.message}`, "Show Server Log");
        if (pick) this.scout.log.show(true);
        return;
      }
    }
  }

  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;

  /** Fetch `scout/results` into the view. Calls during a fetch coalesce into one more fetch, so
   * the view never gets two trees at once. */
  refreshResults(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        this.results.update(await this.scout.results());
      } while (this.refreshAgain);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private haskellEditor(): vscode.TextEditor | undefined {
    const editor = vscode.window.activeTextEditor;
    return editor && HASKELL_LANGUAGES.has(editor.document.languageId) ? editor : undefined;
  }

  private async ask(): Promise<void> {
    const editor = this.haskellEditor();
    let word: string | undefined;
    if (editor) {
      const range = editor.document.getWordRangeAtPosition(editor.selection.active, /[\w']+/);
      word = range ? editor.document.getText(range) : undefined;
    }
    const template = questionTemplate(word);
    const question = await vscode.window.showInputBox({
      title: "Semantic Scout: Ask About Symbol",
      prompt: "What change are you considering? (add/remove/rename a constructor or field, change a function's type, add a method, stop exporting ...)",
      placeHolder: "What breaks if I add a constructor to LLMKind?",
      value: template.value,
      valueSelection: template.selection,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : "Type a question"),
    });
    if (!question) return;
    const arg: Record<string, unknown> = { question: question.trim() };
    const uri = editor?.document.uri ?? vscode.window.activeTextEditor?.document.uri;
    if (uri) arg.uri = uri.toString();
    await this.run(ServerCommand.ask, arg, "scouting");
  }

  private async scoutAtCursor(): Promise<void> {
    const editor = this.haskellEditor();
    if (!editor) {
      void vscode.window.showWarningMessage(
        "Semantic Scout: open a Haskell file and put the cursor on a type, constructor, field, function or class first.",
      );
      return;
    }
    const position = editor.selection.active;
    const uri = editor.document.uri;
    await this.scout.running();
    const actions =
      (await vscode.commands.executeCommand<Array<vscode.CodeAction | vscode.Command>>(
        "vscode.executeCodeActionProvider",
        uri,
        new vscode.Range(position, position),
        "refactor.scout",
      )) ?? [];
    // A Command has a string `command`; a CodeAction may carry a Command in `command`.
    const picks = changePicks(
      actions.map((a) => ({ title: a.title, command: typeof a.command === "string" ? (a as vscode.Command) : a.command })),
      ServerCommand.scoutAt,
    );
    let arg: unknown = { uri: uri.toString(), position: { line: position.line, character: position.character } };
    if (picks.length > 1) {
      const pick = await vscode.window.showQuickPick(picks, {
        title: "Semantic Scout: which change?",
        placeHolder: "What breaks if I ...",
      });
      if (!pick) return;
      arg = pick.arg;
    } else if (picks.length === 1) {
      arg = picks[0].arg;
    }
    await this.run(ServerCommand.scoutAt, arg, "scouting");
  }

  private async showResults(): Promise<void> {
    await this.refreshResults();
    await this.results.show();
  }

  private async clearResults(): Promise<void> {
    const answer = await this.run(ServerCommand.clearResults, undefined, "clearing results");
    if (answer) {
      await this.refreshResults();
      vscode.window.setStatusBarMessage(`Semantic Scout: cleared ${answer.cleared ?? 0} answers`, 5000);
    }
  }

  private async exportData(): Promise<void> {
    const format = await vscode.window.showQuickPick(
      EXPORT_FORMATS.map((f) => ({ label: f, detail: EXPORT_DESCRIPTIONS[f] })),
      { title: "Semantic Scout: Export Training Data (1/2)", placeHolder: "Dataset format" },
    );
    if (!format) return;
    const folders = await vscode.window.showOpenDialog({
      title: "Semantic Scout: Export Training Data (2/2): folder to write the dataset into",
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      openLabel: "Export Here",
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    if (!folders?.length) return;
    const answer = await this.run(ServerCommand.export, { format: format.label, folder: folders[0].fsPath }, "exporting");
    if (!answer) return;
    const files = answer.files ?? [];
    this.scout.log.info(`exported ${answer.examples ?? 0} examples to ${answer.folder}: ${files.join(", ")}`);
    const pick = await vscode.window.showInformationMessage(
      `Semantic Scout: exported ${answer.examples ?? 0} examples (${files.length} files, ${format.label}) to ${answer.folder ?? folders[0].fsPath}.`,
      "Reveal Folder",
    );
    if (pick) await vscode.commands.executeCommand("revealFileInOS", vscode.Uri.file(answer.folder ?? folders[0].fsPath));
  }

  private currentStatus(): Status | undefined {
    const state = this.scout.state;
    return state.phase === "running" ? state.status : undefined;
  }

  private async selectScorer(): Promise<void> {
    const current = this.currentStatus()?.scorer;
    const pick = await vscode.window.showQuickPick(
      SCORERS.map((s) => ({ label: s, description: s === current ? "(active)" : undefined, detail: SCORER_DESCRIPTIONS[s] })),
      { title: "Semantic Scout: Select Scorer", placeHolder: "For this session; the setting semanticScout.scorer sets the default" },
    );
    if (!pick) return;
    const answer = await this.run(ServerCommand.selectScorer, { scorer: pick.label }, "selecting the scorer");
    if (answer?.statusInfo) vscode.window.setStatusBarMessage(`Semantic Scout: scorer ${answer.statusInfo.scorer}`, 5000);
  }

  private async toggleShadow(): Promise<void> {
    const answer = await this.run(ServerCommand.toggleShadow, {}, "toggling shadowing");
    const shadow = answer?.statusInfo?.shadow;
    if (!shadow) return;
    if (!shadow.enabled) {
      void vscode.window.showInformationMessage("Semantic Scout: Haiku shadowing is off.");
      return;
    }
    if (shadow.keyPresent === false) {
      const pick = await vscode.window.showWarningMessage(
        "Semantic Scout: Haiku shadowing is on, but no Anthropic API key is set: shadow answers will fail until you set one.",
        "Set Anthropic API Key",
      );
      if (pick) await vscode.commands.executeCommand("semanticScout.setApiKey");
    } else {
      void vscode.window.showInformationMessage(
        `Semantic Scout: Haiku shadowing is on (${shadow.model ?? "Claude Haiku"}): the code at each scored place is sent to the Anthropic API.`,
      );
    }
  }

  private async setApiKey(context: vscode.ExtensionContext): Promise<void> {
    const had = Boolean(await context.secrets.get(API_KEY_SECRET));
    const key = await vscode.window.showInputBox({
      title: "Semantic Scout: Set Anthropic API Key",
      prompt: had
        ? "A key is stored. Enter a new one, or leave empty to remove it. Kept in VS Code's secret storage, passed to the server as ANTHROPIC_API_KEY, never written to settings."
        : "Kept in VS Code's secret storage and passed to the server as ANTHROPIC_API_KEY; never written to settings or logs.",
      password: true,
      ignoreFocusOut: true,
      placeHolder: "sk-ant-...",
    });
    if (key === undefined) return;
    if (key.trim()) {
      await context.secrets.store(API_KEY_SECRET, key.trim());
      void vscode.window.showInformationMessage("Semantic Scout: API key stored; the server restarts to use it.");
    } else if (had) {
      await context.secrets.delete(API_KEY_SECRET);
      void vscode.window.showInformationMessage("Semantic Scout: API key removed; the server restarts without it.");
    }
    // secrets.onDidChange restarts the server (client.ts).
  }

  private async agreement(): Promise<void> {
    const answer = await this.run(ServerCommand.agreement, { json: true }, "computing teacher/student agreement");
    if (!answer) return;
    const report = answer.report as { text?: unknown; markdown?: unknown } | undefined;
    const text = typeof report?.markdown === "string" ? report.markdown : typeof report?.text === "string" ? report.text : undefined;
    const doc = await vscode.workspace.openTextDocument(
      text !== undefined
        ? { language: "markdown", content: text }
        : { language: "json", content: JSON.stringify(answer.report ?? null, null, 2) },
    );
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  private async indexStatus(): Promise<void> {
    const answer = await this.run(ServerCommand.indexStatus, undefined, "reading the index status");
    const index = answer?.index;
    if (!index) return;
    const skipped = index.skipped ?? [];
    this.scout.log.info(`index: ${JSON.stringify(index)}`);
    const pick = await vscode.window.showInformationMessage(
      `Semantic Scout: ${index.state === "ready" ? "index ready" : index.state}: ${indexText(index)}${skipped.length ? `, ${skipped.length} skipped` : ""}.`,
      "Show Details",
    );
    if (pick) {
      const lines = [
        `Index: ${index.state}, revision ${index.revision ?? "?"}`,
        `roots: ${(index.roots ?? []).join(", ")}`,
        indexText(index),
        ...skipped.map((s) => `skipped ${s.path}: ${s.reason}`),
      ];
      for (const line of lines) this.scout.log.info(line);
      this.scout.log.show(true);
    }
  }

  private async copyAsJson(item?: ResultItem): Promise<void> {
    const target = item ?? this.results.view.selection[0];
    if (!target) return;
    await vscode.env.clipboard.writeText(JSON.stringify(target.json, null, 2));
    vscode.window.setStatusBarMessage("Semantic Scout: copied as JSON", 3000);
  }

  private async statusMenu(): Promise<void> {
    const items: Array<vscode.QuickPickItem & { command: string }> = [
      { label: "$(list-tree) Show Results", command: "semanticScout.showResults" },
      { label: "$(settings-gear) Select Scorer...", command: "semanticScout.selectScorer" },
      { label: "$(eye) Toggle Haiku Shadowing", command: "semanticScout.toggleShadow" },
      { label: "$(database) Show Index Status", command: "semanticScout.indexStatus" },
      { label: "$(output) Show Server Log", command: "semanticScout.showLog" },
      { label: "$(debug-restart) Restart Server", command: "semanticScout.restartServer" },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: "Semantic Scout" });
    if (pick) await vscode.commands.executeCommand(pick.command);
  }
}
