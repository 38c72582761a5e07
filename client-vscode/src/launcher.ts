// How the language server is started: an explicit command, or `python -m scout serve` with the
// interpreter found in the documented order (interpreter.ts), installing the bundled server into
// the extension's storage on first start when that interpreter does not have it.

import { execFile } from "node:child_process";
import * as os from "node:os";
import * as vscode from "vscode";

import {
  candidates,
  choose,
  describeCandidate,
  noVenvMessage,
  parseProbe,
  PROBE_SCRIPT,
  versionText,
  type Candidate,
  type ProbeOutcome,
} from "./interpreter";
import { pythonExtensionInterpreter } from "./python";
import { ensureServerEnv, readManifest } from "./serverInstall";
import { expandPath } from "./settings";

export interface Launch {
  command: string;
  args: string[];
  /** One line for the log and the status tooltip. */
  description: string;
}

/** A start failure the user can act on: the message says what to do. */
export class LaunchError extends Error {
  constructor(
    message: string,
    readonly openSetting?: string,
  ) {
    super(message);
  }
}

const PROBE_TIMEOUT_MS = 20_000;

export function probe(candidate: Candidate): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    execFile(
      candidate.command,
      [...candidate.args, "-c", PROBE_SCRIPT],
      { timeout: PROBE_TIMEOUT_MS, windowsHide: true },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === "ENOENT") resolve({ ok: false, error: "not found" });
          else if (error.killed) resolve({ ok: false, error: `did not answer within ${PROBE_TIMEOUT_MS / 1000} s` });
          else resolve({ ok: false, error: (stderr.trim().split("\n").pop() || error.message).slice(0, 300) });
          return;
        }
        resolve(parseProbe(stdout));
      },
    );
  });
}

function pathContext(): { home: string; workspaceFolder?: string } {
  return { home: os.homedir(), workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath };
}

export interface LaunchHooks {
  log(line: string): void;
  installing(detail: string): void;
}

export async function resolveLaunch(context: vscode.ExtensionContext, hooks: LaunchHooks): Promise<Launch> {
  const cfg = vscode.workspace.getConfiguration("semanticScout");
  const command = (cfg.get<string[]>("server.command") ?? []).filter((s) => typeof s === "string" && s.trim());
  if (command.length > 0) {
    const [cmd, ...args] = command.map((part) => expandPath(part, pathContext()));
    return { command: cmd, args, description: `${[cmd, ...args].join(" ")} (setting semanticScout.server.command)` };
  }

  const setting = expandPath(cfg.get<string>("server.interpreter") ?? "", pathContext());
  const resource = vscode.window.activeTextEditor?.document.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  const fromPythonExtension = setting ? undefined : await pythonExtensionInterpreter(resource, hooks.log);
  const tried: Array<{ candidate: Candidate; outcome: ProbeOutcome }> = [];
  for (const candidate of candidates({ setting, pythonExtension: fromPythonExtension, platform: process.platform })) {
    const outcome = await probe(candidate);
    tried.push({ candidate, outcome });
    const decided = choose(tried);
    if ("candidate" in decided || candidate.source === "setting") break;
  }
  const choice = choose(tried);
  for (const line of choice.skipped) hooks.log(`interpreter skipped: ${line}`);
  if (!("candidate" in choice)) {
    throw new LaunchError(choice.message, "semanticScout.server.interpreter");
  }
  const { candidate, probe: found } = choice;
  hooks.log(`interpreter: Python ${versionText(found.version)} at ${found.executable}, from ${describeCandidate(candidate)}`);

  if (found.scoutImportable) {
    return {
      command: found.executable,
      args: ["-m", "scout", "serve"],
      description: `semantic-scout ${found.scout ?? "(version unknown)"} installed in ${found.executable}`,
    };
  }
  if (!found.venv) throw new LaunchError(noVenvMessage(found), "semanticScout.server.interpreter");

  const bundleDir = vscode.Uri.joinPath(context.extensionUri, "bundled").fsPath;
  let manifestVersion: string;
  try {
    manifestVersion = readManifest(bundleDir).version;
  } catch (e) {
    throw new LaunchError((e as Error).message, "semanticScout.server.command");
  }
  const storageDir = context.globalStorageUri.fsPath;
  const env = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: "Semantic Scout",
      cancellable: true,
    },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      progress.report({ message: "preparing the language server" });
      try {
        return await ensureServerEnv({
          storageDir,
          bundleDir,
          probe: found,
          platform: process.platform,
          signal: abort.signal,
          hooks: {
            log: (line) => hooks.log(`install: ${line}`),
            report: (message, increment) => {
              hooks.installing(message);
              progress.report({ message: `installing the language server (first start): ${message}`, increment });
            },
          },
        });
      } catch (e) {
        if (abort.signal.aborted) throw new LaunchError("installing the language server was cancelled. Run 'Semantic Scout: Restart Server' to try again.");
        throw new LaunchError(
          `installing the language server into ${storageDir} failed: ${(e as Error).message.split("\n")[0]}. ` +
            "pip needs the package index (set PIP_INDEX_URL for a mirror); the Semantic Scout output channel has pip's output. " +
            "Or install it yourself (`pip install semantic-scout`) and set semanticScout.server.interpreter to that Python.",
          "semanticScout.server.interpreter",
        );
      } finally {
        sub.dispose();
      }
    },
  );
  hooks.log(`${env.installed ? "installed" : "using"} semantic-scout ${manifestVersion} in ${env.dir}`);
  return {
    command: env.python,
    args: ["-m", "scout", "serve"],
    description: `semantic-scout ${manifestVersion} bundled, in ${env.dir}`,
  };
}
