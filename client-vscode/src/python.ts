// The Python extension's active environment, when that extension is installed.
// Uses its public API (`environments`, falling back to the older `settings.getExecutionDetails`);
// typed here with only what we call, so there is no dependency on its npm package.

import * as vscode from "vscode";

interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string } | undefined;
    resolveEnvironment(
      env: { id: string; path: string } | string,
    ): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
  };
}

const PYTHON_EXTENSION = "ms-python.python";

async function api(): Promise<PythonApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION);
  if (!ext) return undefined;
  if (!ext.isActive) await ext.activate();
  return ext.exports;
}

/** The interpreter the Python extension has selected for `resource`, or undefined. */
export async function pythonExtensionInterpreter(
  resource: vscode.Uri | undefined,
  log: (line: string) => void,
): Promise<string | undefined> {
  try {
    const python = await api();
    if (!python) return undefined;
    const envs = python.environments;
    if (envs) {
      const active = envs.getActiveEnvironmentPath(resource);
      if (active) {
        const resolved = await envs.resolveEnvironment(active);
        const exe = resolved?.executable?.uri?.fsPath;
        if (exe) return exe;
        if (active.path) return active.path;
      }
    }
    const cmd = python.settings?.getExecutionDetails(resource).execCommand;
    if (cmd && cmd.length === 1) return cmd[0];
  } catch (e) {
    log(`the Python extension did not say which interpreter is active: ${(e as Error).message}`);
  }
  return undefined;
}

/** Fires when the user picks another interpreter in the Python extension. */
export async function onPythonEnvironmentChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  try {
    const event = (await api())?.environments?.onDidChangeActiveEnvironmentPath;
    return event ? event(() => listener()) : undefined;
  } catch {
    return undefined;
  }
}
