import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";

import { parseProbe, PROBE_SCRIPT, type Probe } from "../src/interpreter";
import { ensureServerEnv, envKey, pipCollecting, readManifest, requirementNames, run, type BundleManifest } from "../src/serverInstall";

const ROOT = path.join(__dirname, "..", "..", "..");
const REQUIREMENTS = fs.readFileSync(path.join(ROOT, "client-vscode", "server-requirements.txt"), "utf8");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scout-install-test-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function python3(): Probe {
  const parsed = parseProbe(execFileSync("python3", ["-c", PROBE_SCRIPT], { encoding: "utf8" }));
  assert.ok(parsed.ok);
  return parsed.probe;
}

/** pip with nothing but a local folder of wheels: no index, no machine configuration. */
function offlinePip(findLinks: string): NodeJS.ProcessEnv {
  return { PIP_CONFIG_FILE: os.devNull, PIP_NO_INDEX: "1", PIP_FIND_LINKS: findLinks };
}

/** A bundle like scripts/bundle-server.sh makes, holding a minimal wheel named semantic-scout. */
function makeBundle(dir: string, requirements: string, marker: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const wheel = "semantic_scout-0.0.1-py3-none-any.whl";
  const script = `
import zipfile, sys
files = {
  "scout/__init__.py": f"MARKER = {sys.argv[2]!r}\\n",
  "scout/cli.py": "def main():\\n    return 0\\n",
  "semantic_scout-0.0.1.dist-info/METADATA": "Metadata-Version: 2.1\\nName: semantic-scout\\nVersion: 0.0.1\\n",
  "semantic_scout-0.0.1.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for name, text in files.items():
        z.writestr(name, text)
    z.writestr("semantic_scout-0.0.1.dist-info/RECORD", "".join(f"{n},,\\n" for n in files) + "semantic_scout-0.0.1.dist-info/RECORD,,\\n")
`;
  execFileSync("python3", ["-c", script, path.join(dir, wheel), marker]);
  fs.writeFileSync(path.join(dir, "requirements.txt"), requirements);
  const manifest: BundleManifest = { wheel, requirements: "requirements.txt", version: "0.0.1", sha256: { wheel: marker, requirements: requirements } };
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
}

describe("server requirements (server-requirements.txt)", () => {
  it("pins every runtime dependency of pyproject.toml at the same version, with hashes", () => {
    const pyproject = fs.readFileSync(path.join(ROOT, "pyproject.toml"), "utf8");
    const deps = /\ndependencies = \[([\s\S]*?)\]/.exec(pyproject)?.[1] ?? "";
    const pins = [...deps.matchAll(/"([A-Za-z0-9._-]+)==([^"]+)"/g)].map((m) => [m[1].toLowerCase(), m[2]]);
    assert.ok(pins.length >= 5, "pyproject.toml's dependencies are pinned with ==");
    for (const [name, version] of pins) {
      const line = new RegExp(`^${name.replace(/[.-]/g, "[.-]")}==${version.replace(/\./g, "\\.")} `, "m");
      assert.match(REQUIREMENTS, line, `${name}==${version} is in server-requirements.txt (run client-vscode/scripts/lock-server-requirements.sh)`);
    }
    const names = requirementNames(REQUIREMENTS);
    assert.ok(names.includes("tree-sitter-haskell") && names.includes("pygls"));
    const blocks = REQUIREMENTS.split(/\n(?=[A-Za-z0-9])/).filter((b) => /^[A-Za-z0-9]/.test(b));
    for (const block of blocks) assert.match(block, /--hash=sha256:[0-9a-f]{64}/, `every requirement has a hash: ${block.split("\n")[0]}`);
  });
});

describe("helpers", () => {
  it("pipCollecting", () => {
    assert.equal(pipCollecting("Collecting tree-sitter==0.26.1 (from -r req.txt (line 3))"), "tree-sitter");
    assert.equal(pipCollecting("  Downloading tree_sitter-0.26.1.whl (600 kB)"), null);
  });

  it("envKey changes with the bundle and the interpreter", () => {
    const m: BundleManifest = { wheel: "w", requirements: "r", version: "0.1.0", sha256: { w: "1", r: "2" } };
    const p = { executable: "/usr/bin/python3", version: [3, 11, 7] as [number, number, number] };
    assert.match(envKey(m, p), /^0\.1\.0-[0-9a-f]{16}$/);
    assert.equal(envKey(m, p), envKey({ ...m }, { ...p }));
    assert.notEqual(envKey(m, p), envKey({ ...m, sha256: { w: "3", r: "2" } }, p));
    assert.notEqual(envKey(m, p), envKey(m, { ...p, executable: "/opt/python3.12" }));
  });

  it("readManifest says how to fix a build without a bundled server", () => {
    assert.throws(() => readManifest(path.join(tmp, "nothing")), /no bundled language server .*npm run package/);
  });

  it("run reports the exit code and the last lines of output", async () => {
    const lines: string[] = [];
    await run("python3", ["-c", "print('one'); print('two')"], { onLine: (l) => lines.push(l) });
    assert.deepEqual(lines, ["one", "two"]);
    await assert.rejects(run("python3", ["-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"]), /failed \(exit 3\):\nboom/);
  });

  it("run stops a program when cancelled", async () => {
    const abort = new AbortController();
    const started = Date.now();
    const p = run("python3", ["-c", "import time; time.sleep(30)"], { signal: abort.signal });
    setTimeout(() => abort.abort(), 200);
    await assert.rejects(p, /cancelled/);
    assert.ok(Date.now() - started < 10_000);
  });
});

describe("ensureServerEnv (a real venv and pip, offline)", () => {
  const probe = python3();
  const reports: string[] = [];
  const hooks = { log: () => undefined, report: (m: string) => reports.push(m) };

  it("installs the bundle once, then reuses it", { skip: !probe.venv && "python3 has no venv module" }, async () => {
    const storage = path.join(tmp, "storage");
    const bundle = path.join(tmp, "bundle-ok");
    makeBundle(bundle, "# nothing pinned\n", "first");
    const opts = { storageDir: storage, bundleDir: bundle, probe, platform: process.platform, hooks, env: offlinePip(bundle) };
    const first = await ensureServerEnv(opts);
    assert.equal(first.installed, true);
    assert.ok(fs.existsSync(path.join(first.dir, "complete.json")));
    assert.equal(execFileSync(first.python, ["-c", "import scout; print(scout.MARKER)"], { encoding: "utf8" }).trim(), "first");
    assert.ok(reports.some((r) => r.startsWith("creating a virtual environment")));
    const again = await ensureServerEnv(opts);
    assert.deepEqual(again, { ...first, installed: false });
    assert.deepEqual(fs.readdirSync(path.join(storage, "server")), [path.basename(first.dir)]);
  });

  it("fails with pip's reason and leaves nothing half-installed", { skip: !probe.venv && "python3 has no venv module" }, async () => {
    const storage = path.join(tmp, "storage-fail");
    const bundle = path.join(tmp, "bundle-fail");
    makeBundle(bundle, `six==1.16.0 \\\n    --hash=sha256:${"0".repeat(64)}\n`, "second");
    await assert.rejects(
      ensureServerEnv({ storageDir: storage, bundleDir: bundle, probe, platform: process.platform, hooks, env: offlinePip(bundle) }),
      /pip install --require-hashes .* failed \(exit 1\)[\s\S]*six==1\.16\.0/,
    );
    assert.deepEqual(fs.readdirSync(path.join(storage, "server")), []);
  });
});
