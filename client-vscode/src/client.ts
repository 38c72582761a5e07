// The language client: starts `scout serve` over stdio, declares and answers the HLS hover
// bridge, forwards settings, and tells the rest of the extension when results or status change.

import { spawn } from "node:child_process";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  State,
  type ClientCapabilities,
  type FeatureState,
  type LanguageClientOptions,
  type ServerOptions,
  type StaticFeature,
} from "vscode-languageclient/node";

import { reduceHover, type HoverPiece } from "./hover";
import { LaunchError, resolveLaunch } from "./launcher";
import { Method, type HoverParams, type Result, type ResultsChangedParams, type ServerCommandId, type Status } from "./protocol";
import { changeEffect, serverConfig } from "./settings";
import type { ClientState } from "./status";

export const API_KEY_SECRET = "semanticScout.anthropicApiKey";

export const DOCUMENT_SELECTOR = [
  { language: "haskell", scheme: "file" },
  { language: "haskell", scheme: "untitled" },
  { language: "literate haskell", scheme: "file" },
  { language: "literate haskell", scheme: "untitled" },
];

/** Declares `experimental.scoutHover`: this client answers `scout/hover`. */
class ScoutHoverCapability implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...experimental, scoutHover: true };
  }
  initialize(): void {}
  getState(): FeatureState {
    return { kind: "static" };
  }
  clear(): void {}
}

/** What the Haskell extension (HLS) shows at a position, reduced to the type text. */
export async function hoverText(params: HoverParams): Promise<{ contents: string } | null> {
  const uri = vscode.Uri.parse(params.textDocument.uri);
  const position = new vscode.Position(params.position.line, params.position.character);
  const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", uri, position)) ?? [];
  const pieces: HoverPiece[] = [];
  for (const hover of hovers) {
    for (const c of hover.contents) {
      if (typeof c === "string") pieces.push(c);
      else if (c instanceof vscode.MarkdownString) pieces.push(c.value);
      else if ("language" in c) pieces.push({ language: c.language, value: c.value });
      else pieces.push((c as { value: string }).value);
    }
  }
  const text = reduceHover(pieces);
  return text === null ? null : { contents: text };
}

function pathContext(scope?: vscode.Uri) {
  const folder = scope ? vscode.workspace.getWorkspaceFolder(scope) : vscode.workspace.workspaceFolders?.[0];
  return { home: os.homedir(), workspaceFolder: folder?.uri.fsPath };
}

export function currentServerConfig(scope?: vscode.Uri) {
  const cfg = vscode.workspace.getConfiguration("semanticScout", scope);
  return serverConfig((key) => cfg.inspect(key), pathContext(scope));
}

export interface ScoutClientEvents {
  onAnswer(command: string, arg: unknown, answer: unknown): Promise<void>;
}

export class ScoutClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private ready: Promise<void> = Promise.resolve();
  private _state: ClientState = { phase: "stopped" };
  private readonly disposables: vscode.Disposable[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<ClientState>();
  private readonly resultsEmitter = new vscode.EventEmitter<ResultsChangedParams | undefined>();
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires when the answers changed (and once after every start). */
  readonly onDidChangeResults = this.resultsEmitter.event;
  private shownProblems = "";
  /** The server's last lines on stderr: what a start-up failure message quotes. */
  private stderrTail: string[] = [];
  /** Has the current server process completed initialization? */
  private initialized = false;
  private exitedWhileStarting: (reason: Error) => void = () => undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    private readonly events: ScoutClientEvents,
  ) {
    this.disposables.push(
      this.stateEmitter,
      this.resultsEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => this.configurationChanged(e)),
      context.secrets.onDidChange((e) => {
        if (e.key === API_KEY_SECRET) {
          this.log.info("the Anthropic API key changed: restarting the server to pass it on");
          void this.restart();
        }
      }),
    );
  }

  get state(): ClientState {
    return this._state;
  }

  private setState(state: ClientState): void {
    this._state = state;
    this.stateEmitter.fire(state);
  }

  /** Start (or restart) the server. Never throws: failures become the `failed` state.
   * Starts queue behind each other, so a restart during a start runs after it. */
  start(): Promise<void> {
    this.ready = this.ready.then(() => this.doStart());
    return this.ready;
  }

  private async doStart(): Promise<void> {
    try {
      await this.stopClient();
      this.setState({ phase: "starting" });
      const launch = await resolveLaunch(this.context, {
        log: (line) => this.log.info(line),
        installing: (detail) => this.setState({ phase: "installing", detail }),
      });
      this.setState({ phase: "starting", detail: launch.description });
      this.log.info(`starting the language server: ${launch.description}`);
      const exited = new Promise<never>((_, reject) => (this.exitedWhileStarting = reject));
      const client = await this.createClient(launch.command, launch.args);
      this.client = client;
      // The client's start() can stay pending when the process dies during initialize.
      await Promise.race([client.start(), exited]);
      this.initialized = true;
      this.setState({ phase: "running" });
      void this.refreshStatus();
      this.resultsEmitter.fire(undefined);
    } catch (e) {
      const message =
        e instanceof LaunchError
          ? e.message
          : this.stderrTail.length
            ? `the language server exited while starting: ${this.stderrTail.slice(-3).join(" ")}`
            : `the language server did not start: ${(e as Error).message}`;
      this.log.error(message);
      this.setState({ phase: "failed", message });
      const actions = ["Show Server Log", "Restart Server"];
      if (e instanceof LaunchError && e.openSetting) actions.unshift("Open Settings");
      void vscode.window.showErrorMessage(`Semantic Scout: ${message}`, ...actions).then((pick) => {
        if (pick === "Show Server Log") this.log.show(true);
        else if (pick === "Restart Server") void this.restart();
        else if (pick === "Open Settings" && e instanceof LaunchError) {
          void vscode.commands.executeCommand("workbench.action.openSettings", e.openSetting);
        }
      });
    }
  }

  private async createClient(command: string, args: string[]): Promise<LanguageClient> {
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: "1" };
    const key = await this.context.secrets.get(API_KEY_SECRET);
    if (key) env.ANTHROPIC_API_KEY = key;
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    this.stderrTail = [];
    this.initialized = false;
    // Spawned here (not by the client) to keep the last lines of stderr for error messages;
    // the client still copies stderr into the output channel.
    const serverOptions: ServerOptions = async () => {
      const child = spawn(command, args, { env, cwd, stdio: "pipe", windowsHide: true });
      let rest = "";
      child.stderr.on("data", (chunk: Buffer) => {
        const lines = (rest + chunk.toString("utf8")).split(/\r?\n/);
        rest = lines.pop() ?? "";
        for (const line of lines) if (line.trim()) this.stderrTail.push(line.trim());
        this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - 20));
      });
      return child;
    };
    const initial = currentServerConfig();
    this.showProblems(initial.problems);
    const crashes: number[] = [];
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      // A failed initialize: no retry and no second notification; doStart reports it.
      initializationFailedHandler: (error) => {
        this.log.error(`initialize failed: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
      // Restart a server that crashes after it ran, at most 4 times in 3 minutes (the client's
      // default policy); one that cannot even start would only fail again: doStart says why.
      errorHandler: {
        error: (_error, _message, count) => ({ action: count && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
        closed: () => {
          if (!this.initialized) {
            this.exitedWhileStarting(new Error("the server process exited"));
            return { action: CloseAction.DoNotRestart, handled: true };
          }
          const now = Date.now();
          crashes.push(now);
          while (crashes.length && now - crashes[0] > 180_000) crashes.shift();
          const why = this.stderrTail.slice(-2).join(" ");
          if (crashes.length <= 4) {
            this.log.warn(`the language server stopped${why ? ` (${why})` : ""}: restarting it`);
            return { action: CloseAction.Restart, handled: true };
          }
          return {
            action: CloseAction.DoNotRestart,
            message: `The Semantic Scout server stopped 5 times in 3 minutes and will not be restarted${why ? `: ${why}` : ""}. See the output channel, then run Restart Server.`,
          };
        },
      },
      outputChannel: this.log,
      initializationOptions: initial.config,
      middleware: {
        workspace: {
          // Answer `workspace/configuration` for our section with the server's object only:
          // explicitly set values, launch settings left out.
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) return answers;
            return params.items.map((item, i) =>
              item.section === "semanticScout"
                ? currentServerConfig(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined).config
                : answers[i],
            );
          },
        },
        // Code actions and code lenses run the server's commands through the commands the client
        // registered for them; their answers need the same handling as the palette's.
        executeCommand: async (command, cmdArgs, next) => {
          const answer = await next(command, cmdArgs);
          await this.events.onAnswer(command, cmdArgs[0], answer);
          return answer;
        },
      },
    };
    const client = new LanguageClient("semanticScout", "Semantic Scout", serverOptions, clientOptions);

    client.registerFeature(new ScoutHoverCapability());
    client.onRequest(Method.hover, async (params: HoverParams, token: vscode.CancellationToken) => {
      try {
        // The server stops waiting after timeouts.hover and cancels: answer null at once then.
        const cancelled = new Promise<null>((resolve) => token.onCancellationRequested(() => resolve(null)));
        return await Promise.race([hoverText(params), cancelled]);
      } catch (e) {
        this.log.warn(`scout/hover: ${(e as Error).message}`);
        return null;
      }
    });
    client.onNotification(Method.resultsChanged, (params: ResultsChangedParams) => this.resultsEmitter.fire(params));
    // The server sends the whole Status, or only what changed (`{"index": ...}` after a folder
    // is indexed): then the rest is asked for, since folders may have opened meanwhile.
    client.onNotification(Method.statusChanged, (status: Partial<Status>) => {
      this.mergeStatus(status);
      if (!("scorer" in status)) void this.refreshStatus();
    });
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped && this.client === client && this._state.phase === "running") {
        const why = this.stderrTail.slice(-2).join(" ");
        this.setState({ phase: "failed", message: `the language server stopped${why ? `: ${why}` : ""} (see the Semantic Scout output channel)` });
      } else if (e.newState === State.Running && this.client === client && this._state.phase === "failed") {
        this.setState({ phase: "running" });
        void this.refreshStatus();
      }
    });
    return client;
  }

  private showProblems(problems: string[]): void {
    const text = problems.join("; ");
    if (text && text !== this.shownProblems) {
      this.log.warn(text);
      void vscode.window.showWarningMessage(`Semantic Scout settings: ${text}`);
    }
    this.shownProblems = text;
  }

  private configurationChanged(e: vscode.ConfigurationChangeEvent): void {
    const effect = changeEffect((section) => e.affectsConfiguration(section));
    if (effect === "restart") {
      this.log.info("a server setting changed: restarting the server");
      void this.restart();
    } else if (effect === "push" && this.client?.isRunning()) {
      const { config, problems } = currentServerConfig();
      this.showProblems(problems);
      void this.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { semanticScout: config } });
    }
  }

  async restart(): Promise<void> {
    await this.start();
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (e) {
        this.log.warn(`stopping the server: ${(e as Error).message}`);
      }
      await client.dispose().catch(() => undefined);
    }
  }

  /** The running client, after a start in progress finished; throws what stopped it otherwise. */
  async running(): Promise<LanguageClient> {
    await this.ready;
    if (this.client && this.client.isRunning()) return this.client;
    const state = this._state;
    throw new Error(
      state.phase === "failed" ? state.message : "the language server is not running: run 'Semantic Scout: Restart Server'",
    );
  }

  /** A server command, with its answer handled like a code action's. */
  async executeCommand(command: ServerCommandId, arg?: unknown, token?: vscode.CancellationToken): Promise<unknown> {
    const client = await this.running();
    const answer = await client.sendRequest(
      ExecuteCommandRequest.type,
      { command, arguments: arg === undefined ? [] : [arg] },
      token,
    );
    await this.events.onAnswer(command, arg, answer);
    return answer;
  }

  async results(uri?: string): Promise<Result[]> {
    const client = await this.running();
    const answer = await client.sendRequest<{ results?: Result[] }>(Method.results, uri ? { uri } : {});
    return answer?.results ?? [];
  }

  async refreshStatus(): Promise<void> {
    try {
      const client = await this.running();
      const status = await client.sendRequest<Status>(Method.status, {});
      this.setState({ phase: "running", status });
    } catch (e) {
      this.log.warn(`scout/status: ${(e as Error).message}`);
    }
  }

  setStatus(status: Status): void {
    this.mergeStatus(status);
  }

  private mergeStatus(status: Partial<Status>): void {
    if (this._state.phase !== "running") return;
    const merged = { ...(this._state.status ?? {}), ...status } as Status;
    this.setState({ phase: "running", status: merged });
  }

  async stop(): Promise<void> {
    await this.stopClient();
    this.setState({ phase: "stopped" });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    void this.stopClient();
  }
}
