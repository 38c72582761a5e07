// Entry point: activated by a Haskell file, a Semantic Scout command or its view.

import * as vscode from "vscode";

import { ScoutClient, type ScoutClientEvents } from "./client";
import { Commands } from "./commands";
import { onPythonEnvironmentChange } from "./python";
import { ResultsView } from "./resultsView";
import { StatusBar } from "./statusBar";

let scout: ScoutClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel("Semantic Scout", { log: true });
  const results = new ResultsView();
  const statusBar = new StatusBar();
  const events: ScoutClientEvents = { onAnswer: async () => undefined };
  scout = new ScoutClient(context, log, events);
  const commands = new Commands(scout, results);
  events.onAnswer = (command, arg, answer) => commands.onAnswer(command, arg, answer);
  commands.register(context);
  const client = scout;
  context.subscriptions.push(
    log,
    results,
    statusBar,
    client,
    client.onDidChangeState((state) => statusBar.update(state)),
    client.onDidChangeResults(() => {
      commands.refreshResults().catch((e: Error) => log.warn(`scout/results: ${e.message}`));
    }),
  );
  void client.start();
  // Another interpreter picked in the Python extension: restart with it (only when it is used).
  void onPythonEnvironmentChange(() => {
    const cfg = vscode.workspace.getConfiguration("semanticScout");
    if (!cfg.get<string>("server.interpreter") && !(cfg.get<string[]>("server.command") ?? []).length) {
      log.info("the Python extension's active environment changed: restarting the server");
      void client.restart();
    }
  }).then((d) => {
    if (d) context.subscriptions.push(d);
  });
}

export async function deactivate(): Promise<void> {
  await scout?.stop();
  scout = undefined;
}
