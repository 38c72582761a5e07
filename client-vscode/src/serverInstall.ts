// First start: install the bundled language server into the extension's own storage.
// Node only (fs, child_process): no `vscode` import, so tests can drive it directly.
//
// The .vsix carries bundled/: the `semantic-scout` wheel built from the repository (pure Python),
// requirements.txt (every runtime dependency pinned with the sha256 of each of its files, for
// every platform and Python >= 3.11) and manifest.json. Native dependencies (tree-sitter,
// pydantic-core, jiter) have per-platform wheels, so a portable .vsix cannot carry them: pip
// fetches them from the package index the user's pip is configured for, and refuses any file
// whose hash is not in requirements.txt. The environment lives in
// <globalStorage>/server/<key>, where the key covers the bundle and the interpreter, so an
// upgrade or another Python gets a fresh one. It is built in a side folder and renamed into
// place when complete, so two windows starting at once cannot see half an environment.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { venvPython, type Probe } from "./interpreter";

export interface BundleManifest {
  wheel: string;
  requirements: string;
  version: string;
  sha256: Record<string, string>;
}

export function readManifest(bundleDir: string): BundleManifest {
  const file = path.join(bundleDir, "manifest.json");
  let data: BundleManifest;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8")) as BundleManifest;
  } catch (e) {
    throw new Error(
      `this build of the extension has no bundled language server (${file}: ${(e as Error).message}). ` +
        "Rebuild it with `npm run package`, or set semanticScout.server.command / semanticScout.server.interpreter.",
    );
  }
  for (const name of [data.wheel, data.requirements]) {
    if (!name || !fs.existsSync(path.join(bundleDir, name))) {
      throw new Error(`the bundled language server is incomplete: ${name} is missing from ${bundleDir}`);
    }
  }
  return data;
}

/** The environment's folder name: changes with the bundle (wheel and lock) and the interpreter. */
export function envKey(manifest: BundleManifest, probe: Pick<Probe, "executable" | "version">): string {
  const h = createHash("sha256");
  h.update(JSON.stringify([manifest.sha256, probe.executable, probe.version]));
  return `${manifest.version}-${h.digest("hex").slice(0, 16)}`;
}

/** Package names in a hash-pinned requirements file (`name==version \`). */
export function requirementNames(requirements: string): string[] {
  const names: string[] = [];
  for (const line of requirements.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)==/.exec(line);
    if (m) names.push(m[1].toLowerCase());
  }
  return names;
}

/** The package a line of pip's output starts working on, if any. */
export function pipCollecting(line: string): string | null {
  const m = /^\s*Collecting ([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line);
  return m ? m[1].toLowerCase() : null;
}

export interface InstallHooks {
  /** Every line of output, for the output channel. */
  log(line: string): void;
  /** User-facing progress; `increment` in percent of the whole install. */
  report(message: string, increment?: number): void;
}

export interface InstallOptions {
  storageDir: string;
  bundleDir: string;
  probe: Probe;
  platform: NodeJS.Platform;
  hooks: InstallHooks;
  signal?: AbortSignal;
  /** Extra environment for pip (tests point PIP_* at a local index). */
  env?: NodeJS.ProcessEnv;
}

export interface ServerEnv {
  dir: string;
  python: string;
  /** False when an earlier start had already installed it. */
  installed: boolean;
}

const COMPLETE = "complete.json";

/** The environment's interpreter, if an earlier start completed it. */
export function existingServerEnv(storageDir: string, key: string, platform: NodeJS.Platform): ServerEnv | null {
  const dir = path.join(storageDir, "server", key);
  if (!fs.existsSync(path.join(dir, COMPLETE))) return null;
  const python = venvPython(dir, platform);
  if (!fs.existsSync(python)) return null;
  return { dir, python, installed: false };
}

export async function ensureServerEnv(opts: InstallOptions): Promise<ServerEnv> {
  const manifest = readManifest(opts.bundleDir);
  const key = envKey(manifest, opts.probe);
  const root = path.join(opts.storageDir, "server");
  const existing = existingServerEnv(opts.storageDir, key, opts.platform);
  if (existing) {
    touch(path.join(existing.dir, COMPLETE));
    return existing;
  }
  fs.mkdirSync(root, { recursive: true });
  removeStale(root, key);
  const target = path.join(root, key);
  const side = path.join(root, `${key}.partial-${process.pid}-${Date.now()}`);
  const { hooks } = opts;
  const env = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1", PIP_NO_INPUT: "1", PYTHONUNBUFFERED: "1", ...opts.env };
  try {
    hooks.report(`creating a virtual environment with Python ${opts.probe.version.join(".")}`, 5);
    await run(opts.probe.executable, ["-m", "venv", side], { env, signal: opts.signal, onLine: hooks.log });
    const python = venvPython(side, opts.platform);

    const reqFile = path.join(opts.bundleDir, manifest.requirements);
    const names = requirementNames(fs.readFileSync(reqFile, "utf8"));
    const step = names.length ? 75 / names.length : 0;
    let seen = 0;
    hooks.report(`installing ${names.length} pinned dependencies`, 5);
    await run(
      python,
      ["-m", "pip", "install", "--require-hashes", "--only-binary", ":all:", "--no-deps", "-r", reqFile],
      {
        env,
        signal: opts.signal,
        onLine: (line) => {
          hooks.log(line);
          const name = pipCollecting(line);
          if (name) {
            seen += 1;
            hooks.report(`installing dependencies (${Math.min(seen, names.length)}/${names.length}): ${name}`, step);
          }
        },
      },
    );
    hooks.report(`installing semantic-scout ${manifest.version}`, 5);
    await run(python, ["-m", "pip", "install", "--no-deps", "--no-index", path.join(opts.bundleDir, manifest.wheel)], {
      env,
      signal: opts.signal,
      onLine: hooks.log,
    });
    hooks.report("checking the server starts", 5);
    await run(python, ["-c", "import scout.cli"], { env, signal: opts.signal, onLine: hooks.log });
    fs.writeFileSync(
      path.join(side, COMPLETE),
      JSON.stringify({ version: manifest.version, python: opts.probe.executable, created: new Date().toISOString() }),
    );
    try {
      fs.renameSync(side, target);
    } catch (e) {
      // Another window finished the same environment first: use theirs.
      const theirs = existingServerEnv(opts.storageDir, key, opts.platform);
      if (!theirs) throw e;
      fs.rmSync(side, { recursive: true, force: true });
      return theirs;
    }
    return { dir: target, python: venvPython(target, opts.platform), installed: true };
  } catch (e) {
    fs.rmSync(side, { recursive: true, force: true });
    throw e;
  }
}

function touch(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    // best effort: only used to find environments nobody used for a long time
  }
}

const DAY = 24 * 3600 * 1000;

/** Partial folders of crashed installs (older than a day) and environments of other bundles
 * or interpreters that no window used for 30 days. */
function removeStale(root: string, keep: string): void {
  const now = Date.now();
  for (const name of fs.readdirSync(root)) {
    if (name === keep) continue;
    const dir = path.join(root, name);
    try {
      if (name.includes(".partial-")) {
        if (now - fs.statSync(dir).mtimeMs > DAY) fs.rmSync(dir, { recursive: true, force: true });
      } else if (now - fs.statSync(path.join(dir, COMPLETE)).mtimeMs > 30 * DAY) {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } catch {
      // not ours or already gone
    }
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
  cwd?: string;
}

/** Run a program; resolve on exit 0, reject with its last lines of output otherwise. */
export function run(command: string, args: string[], opts: RunOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const child = spawn(command, args, { env: opts.env, cwd: opts.cwd, signal: opts.signal, windowsHide: true });
    const onData = (buffer: { rest: string }) => (chunk: Buffer) => {
      const text = buffer.rest + chunk.toString("utf8");
      const lines = text.split(/\r?\n/);
      buffer.rest = lines.pop() ?? "";
      for (const line of lines) emit(line);
    };
    const emit = (line: string) => {
      if (!line.trim()) return;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      opts.onLine?.(line);
    };
    const out = { rest: "" };
    const err = { rest: "" };
    child.stdout.on("data", onData(out));
    child.stderr.on("data", onData(err));
    child.on("error", (e) => reject(opts.signal?.aborted ? new Error("cancelled") : e));
    child.on("close", (code, sig) => {
      emit(out.rest);
      emit(err.rest);
      if (code === 0) resolve();
      else if (opts.signal?.aborted) reject(new Error("cancelled"));
      else {
        reject(
          new Error(`${[command, ...args].join(" ")} failed (${code !== null ? `exit ${code}` : sig}):\n${tail.join("\n")}`),
        );
      }
    });
  });
}
