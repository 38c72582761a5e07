#!/usr/bin/env node
// The real-editor end-to-end test: the built .vsix installed into code-server (VS Code 1.100 in
// the browser), driven by Debian's Chromium through playwright-core, with the real language
// server (installed by the extension on first start, exactly as a user gets it).
//
//   node tests/vscode/e2e.mjs          (after `npm run package` and tests/vscode/install-editor.sh)
//
// Outside CI it skips, saying why, when code-server, Chromium or the .vsix is missing; with CI or
// SCOUT_REQUIRE_E2E=1 set, a missing piece is a failure. Screenshots go to
// tests/vscode/artifacts/ (SCOUT_E2E_ARTIFACTS). SCOUT_E2E_INTERPRETER sets
// semanticScout.server.interpreter (default: none, so the extension installs its bundled server).

import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const CODE_SERVER_VERSION = "4.100.3";
const CACHE = process.env.SCOUT_EDITOR_CACHE || path.join(os.homedir(), ".cache", "semantic-scout");
const CODE_SERVER = path.join(CACHE, `code-server-${CODE_SERVER_VERSION}`, "node_modules", ".bin", "code-server");
const CHROMIUM = process.env.SCOUT_CHROMIUM || "/usr/lib/chromium/chromium";
const VSIX = path.join(ROOT, "client-vscode", "semantic-scout.vsix");
const ARTIFACTS = process.env.SCOUT_E2E_ARTIFACTS || path.join(HERE, "artifacts");
const REQUIRED = ["1", "true", "yes"].includes(String(process.env.CI ?? "").toLowerCase()) || process.env.SCOUT_REQUIRE_E2E === "1";
// Typed into Set Anthropic API Key; never sent anywhere (no question is asked with shadowing on),
// and it must not appear in any log.
const FAKE_KEY = "sk-ant-e2e-not-a-real-key-0123456789";
// First start installs the server with pip: allow for a slow package index.
const SERVER_READY_MS = Number(process.env.SCOUT_E2E_SERVER_TIMEOUT_MS || 300_000);

function log(msg) {
  process.stdout.write(`e2e: ${msg}\n`);
}

function skipOrFail(reason) {
  if (REQUIRED) {
    log(`FAIL: ${reason}`);
    log("0 passed, 1 failed");
    process.exit(1);
  }
  log(`SKIP: ${reason} (run tests/vscode/install-editor.sh and npm run package; CI or SCOUT_REQUIRE_E2E=1 makes this a failure)`);
  process.exit(0);
}

// ---- preconditions -------------------------------------------------------------------------
let playwright;
try {
  playwright = await import("playwright-core");
} catch {
  skipOrFail("playwright-core is not installed (npm ci at the repository root)");
}
if (!fs.existsSync(CODE_SERVER)) skipOrFail(`code-server ${CODE_SERVER_VERSION} is not installed at ${CODE_SERVER}`);
if (!fs.existsSync(CHROMIUM)) skipOrFail(`Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`);
if (!fs.existsSync(VSIX)) skipOrFail(`${path.relative(ROOT, VSIX)} is not built (npm run package)`);
const SCOUT_CLI = path.join(ROOT, ".venv", "bin", "scout");
if (!fs.existsSync(SCOUT_CLI)) skipOrFail(`${SCOUT_CLI} is missing (bash scripts/setup.sh): it computes the expected lens lines`);

// ---- a scratch editor: user data, extensions, workspace -------------------------------------
const started = Date.now();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "scout-e2e-"));
const userData = path.join(scratch, "user-data");
const extensions = path.join(scratch, "extensions");
const workspace = path.join(scratch, "llm-service");
const database = path.join(scratch, "scout.db");
fs.mkdirSync(path.join(userData, "User"), { recursive: true });
fs.cpSync(path.join(ROOT, "examples", "llm-service"), workspace, { recursive: true });
fs.rmSync(ARTIFACTS, { recursive: true, force: true });
fs.mkdirSync(ARTIFACTS, { recursive: true });

const settings = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.colorTheme": "Default Light Modern",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "git.enabled": false,
  "explorer.compactFolders": false,
  "editor.minimap.enabled": false,
  "editor.codeLens": true,
  // No Ollama in the test: the heuristics answer, deterministically.
  "semanticScout.scorer": "heuristic",
  "semanticScout.database": database,
};
if (process.env.SCOUT_E2E_INTERPRETER) settings["semanticScout.server.interpreter"] = process.env.SCOUT_E2E_INTERPRETER;
fs.writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify(settings, null, 2));

// code-server keeps its config in XDG_CONFIG_HOME: keep it out of the user's home.
const editorEnv = { ...process.env, XDG_CONFIG_HOME: path.join(scratch, "config"), XDG_DATA_HOME: path.join(scratch, "data") };
delete editorEnv.ANTHROPIC_API_KEY;

log(`installing ${path.relative(ROOT, VSIX)} into code-server ${CODE_SERVER_VERSION}`);
execFileSync(CODE_SERVER, ["--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", VSIX], {
  env: editorEnv,
  stdio: ["ignore", "pipe", "pipe"],
});

/** What the engine answers for the question the test asks: the lines that must carry lenses. */
function expectedTypesLines() {
  const out = execFileSync(
    SCOUT_CLI,
    ["query", "--target", "LLMKind", "--change", "add_constructor", "--root", workspace, "--json", "--no-log", "--scorer", "heuristic"],
    { encoding: "utf8", env: { ...process.env, SCOUT_DB: path.join(scratch, "cli.db") } },
  );
  const nodes = JSON.parse(out).nodes;
  const groups = {}; // risk -> sorted file names, as the Results view must show them
  const perRisk = {}; // risk -> number of places
  for (const n of nodes) {
    const risk = n.rubric ? n.rubric.risk : 0;
    perRisk[risk] = (perRisk[risk] ?? 0) + 1;
    const file = n.location.replace(/:\d+$/, "").split("/").pop();
    (groups[risk] ??= new Set()).add(file);
  }
  for (const risk of Object.keys(groups)) groups[risk] = [...groups[risk]].sort();
  const lines = new Set();
  for (const n of nodes) {
    const m = /^src\/LLM\/Types\.hs:(\d+)$/.exec(n.location);
    if (m) lines.add(Number(m[1]));
  }
  return { lines: [...lines].sort((a, b) => a - b), total: nodes.length, groups, perRisk };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

function healthy(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
  });
}

const port = await freePort();
const editorLog = fs.openSync(path.join(ARTIFACTS, "code-server.log"), "w");
const editor = spawn(
  CODE_SERVER,
  [
    "--auth", "none",
    "--bind-addr", `127.0.0.1:${port}`,
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--user-data-dir", userData,
    "--extensions-dir", extensions,
    workspace,
  ],
  { env: editorEnv, stdio: ["ignore", editorLog, editorLog], detached: true },
);
let editorExited = null;
editor.on("exit", (code, signal) => (editorExited = `code-server exited (${code ?? signal})`));

function stopEditor() {
  if (editor.exitCode === null && editor.pid) {
    try {
      process.kill(-editor.pid, "SIGTERM"); // its process group: the extension host and our server too
    } catch {
      // already gone
    }
  }
}
process.on("exit", stopEditor);

for (let i = 0; !(await healthy(port)); i++) {
  if (editorExited || i > 120) skipOrFail(editorExited ?? "code-server did not answer within 60 s");
  await new Promise((r) => setTimeout(r, 500));
}

// ---- the browser -----------------------------------------------------------------------------
const browser = await playwright.chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
page.setDefaultTimeout(30_000);

const results = [];
let failed = false;

async function step(name, fn) {
  if (failed) {
    results.push({ name, status: "not run" });
    return;
  }
  const t = Date.now();
  try {
    await fn();
    results.push({ name, status: "passed", ms: Date.now() - t });
    log(`ok   ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed = true;
    results.push({ name, status: "failed", ms: Date.now() - t, error: e });
    log(`FAIL ${name}: ${e?.stack ?? e}`);
    await shot(`failed-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`).catch(() => undefined);
  }
}

async function shot(name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

const quickInput = page.locator(".quick-input-widget");
const quickInputBox = quickInput.locator("input.input");

async function openQuickInput(prefix) {
  await page.keyboard.press("Escape");
  await page.keyboard.press("F1");
  await quickInputBox.waitFor({ state: "visible" });
  await quickInputBox.fill(prefix);
}

/** Run a palette command by its full title ("Semantic Scout: Show Index Status"). */
async function palette(title) {
  await openQuickInput(`>${title}`);
  const row = quickInput.locator(".monaco-list-row").filter({ hasText: title }).first();
  await row.waitFor({ state: "visible" });
  await quickInputBox.press("Enter");
}

async function goTo(line, column) {
  await openQuickInput(`:${line}:${column}`);
  await quickInput.locator(".monaco-list-row").first().waitFor({ state: "visible" });
  await quickInputBox.press("Enter");
  await quickInput.waitFor({ state: "hidden" });
}

/** Expand a folder of the explorer, by its exact label (clicks until it says it is expanded). */
async function expandFolder(label) {
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${label}"]`).first();
  await row.waitFor({ state: "visible" });
  for (let i = 0; i < 5 && (await row.getAttribute("aria-expanded")) !== "true"; i++) {
    await row.click();
    await page.waitForTimeout(400);
  }
  if ((await row.getAttribute("aria-expanded")) !== "true") throw new Error(`the explorer did not expand ${label}`);
}

/** Open a file from the explorer, by its exact label, and wait for its tab. */
async function openFile(label) {
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${label}"]`).first();
  await row.click();
  await page.locator(".tab", { hasText: label }).first().waitFor({ state: "visible" });
  await page.locator(".editor-instance .monaco-editor .view-lines").first().waitFor({ state: "visible" });
}

const statusItem = page.locator(".statusbar-item").filter({ hasText: /Scout/ });
const lenses = page.locator(".monaco-editor .codelens-decoration a, .monaco-editor .codelens-decoration span");
const notifications = page.locator(".notifications-toasts .notification-toast");

/** Drag the sash between the side bar and the editor to `x` (so tree labels fit). */
async function widenSideBar(x) {
  const sidebar = await page.locator(".part.sidebar").boundingBox();
  if (!sidebar) return;
  const edge = sidebar.x + sidebar.width;
  const sashes = await page.locator(".monaco-sash.vertical").evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2, h: r.height };
    }),
  );
  const sash = sashes.filter((s) => Math.abs(s.x - edge) < 6 && s.h > 200)[0];
  if (!sash) throw new Error(`no sash at the side bar's edge (x=${edge}): ${JSON.stringify(sashes)}`);
  await page.mouse.move(sash.x, sash.y);
  await page.mouse.down();
  await page.mouse.move(sash.x + 20, sash.y, { steps: 2 });
  await page.mouse.move(x, sash.y, { steps: 8 });
  await page.mouse.up();
  const wider = await page.locator(".part.sidebar").boundingBox();
  if (!wider || wider.x + wider.width < x - 20) throw new Error(`the side bar did not widen (edge at ${wider && wider.x + wider.width})`);
}

/** Every visible code lens with the editor line it stands above. */
async function lensLines() {
  return page.evaluate(() => {
    const editor = document.querySelector(".editor-instance .monaco-editor");
    if (!editor) return [];
    const numbers = [...editor.querySelectorAll(".margin-view-overlays .line-numbers")].map((el) => ({
      line: Number(el.textContent.trim()),
      top: el.getBoundingClientRect().top,
    }));
    const out = [];
    for (const lens of editor.querySelectorAll(".codelens-decoration")) {
      const box = lens.getBoundingClientRect();
      const below = numbers.filter((n) => n.top >= box.bottom - 3).sort((a, b) => a.top - b.top)[0];
      for (const part of lens.querySelectorAll("a, span")) {
        const text = part.textContent.trim();
        if (text && text !== "|") out.push({ line: below ? below.line : null, text });
      }
    }
    return out;
  });
}

/** Rows of the Results view in display order: [{label, level}]. */
async function resultRows() {
  const pane = page.locator(".pane").filter({ has: page.locator(".pane-header", { hasText: /Results/ }) });
  const rows = await pane.locator(".monaco-list-row").evaluateAll((els) =>
    els.map((r) => ({
      label: r.getAttribute("aria-label") ?? r.textContent,
      level: Number(r.getAttribute("aria-level")),
      index: Number(r.getAttribute("data-index")),
    })),
  );
  return rows.sort((a, b) => a.index - b.index);
}

/** The files the view lists under each risk group: {risk: [file names]}. */
function filesByRisk(rows) {
  const out = {};
  let risk = null;
  for (const row of rows) {
    if (row.level === 2) {
      const m = /^risk (\d)/.exec(row.label);
      risk = m ? m[1] : "0";
      out[risk] = [];
    } else if (row.level === 3 && risk !== null) {
      out[risk].push(row.label.split(/\s/)[0]);
    } else if (row.level < 2) {
      risk = null;
    }
  }
  for (const r of Object.keys(out)) out[r].sort();
  return out;
}

async function waitFor(fn, what, timeout = 30_000) {
  const until = Date.now() + timeout;
  let last;
  while (Date.now() < until) {
    last = await fn();
    if (last) return last;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`);
}

const expected = expectedTypesLines();
log(`the engine puts ${expected.total} places in its answer, lines ${expected.lines.join(", ")} in src/LLM/Types.hs`);

// ---- the steps ---------------------------------------------------------------------------------
await step("the workbench opens the example workspace", async () => {
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator(".monaco-workbench").waitFor({ state: "visible", timeout: 60_000 });
  await page.locator(".explorer-folders-view .monaco-list-row").first().waitFor({ state: "visible", timeout: 60_000 });
});

await step("opening a Haskell file activates the extension and starts the server", async () => {
  await expandFolder("src");
  await expandFolder("LLM");
  await openFile("Types.hs");
  await statusItem.first().waitFor({ state: "visible" });
  await shot("01-starting");
  // Running: the status item names the scorer (it says "starting" / "installing" before).
  await waitFor(
    async () => {
      const text = (await statusItem.first().innerText().catch(() => "")) ?? "";
      if (/not running/.test(text)) {
        const toast = await notifications.allInnerTexts();
        throw new Error(`the server did not start: ${text} ${toast.join(" | ")}`);
      }
      return /Scout: heuristic/.test(text);
    },
    "the status bar to show the running server",
    SERVER_READY_MS,
  );
  const text = await statusItem.first().innerText();
  if (!/shadow off/.test(text)) throw new Error(`status bar item without the shadowing state: ${JSON.stringify(text)}`);
});

await step("Scout Breaking Changes at Cursor on data LLMKind puts risk lenses on the expected lines", async () => {
  await page.keyboard.press("Escape");
  await goTo(35, 7);
  // One change applies to a sum type (add a constructor): the command asks it at once.
  await palette("Semantic Scout: Scout Breaking Changes at Cursor...");
  await waitFor(async () => (await lensLines()).some((l) => /^risk \d/.test(l.text)), "risk code lenses");
  // See the whole file at once, so every lens is rendered.
  await page.setViewportSize({ width: 1440, height: 3600 });
  await goTo(1, 1);
  const seen = await waitFor(async () => {
    const all = await lensLines();
    const lines = new Set(all.filter((l) => /^risk \d/.test(l.text)).map((l) => l.line));
    return expected.lines.every((l) => lines.has(l)) ? all : null;
  }, `lenses on lines ${expected.lines.join(", ")}`).catch(async (e) => {
    throw new Error(`${e.message}; lenses seen: ${JSON.stringify(await lensLines())}`);
  });
  const riskLines = [...new Set(seen.filter((l) => /^risk \d/.test(l.text)).map((l) => l.line))].sort((a, b) => a - b);
  if (JSON.stringify(riskLines) !== JSON.stringify(expected.lines)) {
    throw new Error(`risk lenses on lines ${riskLines.join(", ")}, expected ${expected.lines.join(", ")}`);
  }
  const summary = seen.find((l) => l.line === 35 && /\d+ break · \d+ silent · \d+ safe/.test(l.text));
  if (!summary) throw new Error(`no summary lens on data LLMKind (line 35): ${JSON.stringify(seen.filter((l) => l.line === 35))}`);
  log(`lenses in Types.hs: ${seen.map((l) => `${l.line}: ${l.text}`).join(" | ")}`);
  await page.setViewportSize({ width: 1440, height: 900 });
  await widenSideBar(560);
  await goTo(99, 1);
  await page.mouse.move(1000, 600);
  await page.waitForTimeout(300);
  await shot("02-lenses-and-results");
});

await step("the results view lists the answer: query, risk, file, node", async () => {
  const rows = await waitFor(async () => {
    const r = await resultRows();
    return r.some((x) => x.level === 4) ? r : null;
  }, "node rows in the Results view");
  const query = rows.filter((r) => r.level === 1);
  if (query.length !== 1 || !/LLMKind/.test(query[0].label)) throw new Error(`query rows: ${JSON.stringify(query)}`);
  if (!rows.some((r) => r.level === 2 && /risk 5/.test(r.label))) throw new Error(`no risk 5 group: ${JSON.stringify(rows)}`);
  for (const file of ["Types.hs", "Pricing.hs", "Router.hs"]) {
    if (!rows.some((r) => r.level === 3 && r.label.includes(file))) throw new Error(`no ${file} row: ${JSON.stringify(rows)}`);
  }
  // Every row rendered at once, then the tree must match the engine's answer group by group.
  await page.setViewportSize({ width: 1440, height: 3600 });
  await page.waitForTimeout(500);
  const all = await resultRows();
  await page.setViewportSize({ width: 1440, height: 900 });
  const nodes = all.filter((r) => r.level === 4);
  log(`results view: ${all.length} rows, ${nodes.length} node rows (of ${expected.total} places)`);
  // Groups of risk 3 and more are expanded, lower ones collapsed until clicked.
  const shown = filesByRisk(all);
  for (const [risk, files] of Object.entries(expected.groups)) {
    if (!(risk in shown)) throw new Error(`no risk ${risk} group in the Results view: ${JSON.stringify(shown)}`);
    const want = Number(risk) >= 3 ? files : [];
    if (JSON.stringify(shown[risk]) !== JSON.stringify(want)) {
      throw new Error(`risk ${risk} lists files ${JSON.stringify(shown[risk])}, expected ${JSON.stringify(want)} (all groups: ${JSON.stringify(shown)})`);
    }
  }
  const expanded = Object.entries(expected.perRisk).filter(([risk]) => Number(risk) >= 3).reduce((n, [, c]) => n + c, 0);
  if (nodes.length !== expanded) throw new Error(`${nodes.length} node rows, expected ${expanded} (the places of risk 3 or more)`);
  // Clicking a node opens its file at its line.
  const pricing = page.locator(".pane .monaco-list-row[aria-level='3']", { hasText: "Pricing.hs" }).first();
  const index = Number(await pricing.getAttribute("data-index"));
  await page.locator(`.pane .monaco-list-row[data-index='${index + 1}'][aria-level='4']`).first().click();
  await page.locator(".tab.active", { hasText: "Pricing.hs" }).waitFor({ state: "visible" });
  await shot("03-node-opened");
  // Clicking a lens runs scout.showResults: the view selects that answer.
  // Clicking the question opens its target (data LLMKind in Types.hs).
  await page.locator(".pane .monaco-list-row[aria-level='1']").first().click();
  await page.locator(".tab.active", { hasText: "Types.hs" }).waitFor({ state: "visible" });
  // Select a risk group (two clicks: it collapses, then expands again), then click the lens.
  const group = page.locator(".pane .monaco-list-row[aria-level='2']").first();
  await group.click();
  await group.click();
  await waitFor(async () => (await page.locator(".pane .monaco-list-row.selected[aria-level='2']").count()) === 1, "a selected risk row");
  await page.locator(".codelens-decoration a", { hasText: /break · .* silent · .* safe/ }).first().click();
  await waitFor(
    async () => (await page.locator(".pane .monaco-list-row.selected[aria-level='1']").count()) === 1,
    "the lens's answer to be selected in the Results view",
  );
});

await step("the code action on data LLMKind asks the server", async () => {
  await goTo(35, 7);
  await palette("Refactor...");
  const menu = page.locator(".action-widget .monaco-list-row, .action-widget .action-item");
  const action = menu.filter({ hasText: /Scout: what breaks if I/ });
  await action.first().waitFor({ state: "visible" });
  const titles = (await action.allInnerTexts()).map((t) => t.trim());
  log(`code actions on data LLMKind: ${titles.join(" | ")}`);
  if (!titles.some((t) => /add a constructor to LLMKind/.test(t))) throw new Error(`code actions: ${JSON.stringify(titles)}`);
  await shot("04-code-action");
  const wanted = action.filter({ hasText: /add a constructor to LLMKind/ }).first();
  // The menu takes keys, not clicks, here: move the focus to the action, then Enter.
  for (let i = 0; i < 10 && !/focused/.test((await wanted.getAttribute("class")) ?? ""); i++) await page.keyboard.press("ArrowDown");
  if (!/focused/.test((await wanted.getAttribute("class")) ?? "")) throw new Error("could not focus the code action");
  await page.keyboard.press("Enter");
  await waitFor(async () => (await resultRows()).filter((r) => r.level === 1).length === 2, "a second answer in the Results view");
});

await step("Scout Breaking Changes at Cursor on the constructor Opus offers the changes that apply", async () => {
  await goTo(35, 26);
  await palette("Semantic Scout: Scout Breaking Changes at Cursor...");
  const picks = quickInput.locator(".monaco-list-row");
  await picks.filter({ hasText: /Opus/ }).first().waitFor({ state: "visible" });
  const labels = (await picks.allInnerTexts()).map((t) => t.trim().split("\n")[0]);
  log(`changes offered on Opus: ${labels.join(" | ")}`);
  if (labels.length < 2) throw new Error(`expected a pick list of changes, got ${JSON.stringify(labels)}`);
  await shot("05-pick-change");
  await picks.filter({ hasText: /remove/i }).first().click();
  await waitFor(async () => (await resultRows()).some((r) => r.level === 1 && /Opus/.test(r.label)), "the answer about Opus");
});

await step("palette: Show Index Status reports the indexed workspace", async () => {
  await palette("Semantic Scout: Show Index Status");
  const toast = notifications.filter({ hasText: /Semantic Scout: index ready/ }).first();
  await toast.waitFor({ state: "visible" });
  const text = await toast.innerText();
  if (!/7 files indexed/.test(text)) throw new Error(`index status: ${JSON.stringify(text)}`);
  await shot("06-index-status");
});

await step("palette: Export Training Data writes the logged answers as a dataset", async () => {
  const out = path.join(scratch, "dataset");
  fs.mkdirSync(out);
  await palette("Semantic Scout: Export Training Data...");
  await quickInput.locator(".monaco-list-row", { hasText: "functiongemma" }).first().waitFor({ state: "visible" });
  await quickInputBox.fill("json");
  await quickInput.locator(".monaco-list-row").first().waitFor({ state: "visible" });
  await quickInputBox.press("Enter");
  // The web editor's folder dialog is a quick input: type the folder, then "Export Here".
  await page.waitForTimeout(500);
  await quickInputBox.waitFor({ state: "visible" });
  await quickInputBox.fill(out);
  await page.waitForTimeout(500);
  await shot("07-export-folder");
  await quickInput.locator(".monaco-button", { hasText: "Export Here" }).first().click();
  const toast = notifications.filter({ hasText: /exported \d+ examples/ }).first();
  await toast.waitFor({ state: "visible" });
  const text = await toast.innerText();
  const files = fs.readdirSync(out, { recursive: true }).map(String);
  log(`export: ${/exported[^\n]*/.exec(text)?.[0]}; files: ${files.join(", ")}`);
  if (!/exported [1-9]\d* examples/.test(text)) throw new Error(`export: ${JSON.stringify(text)}`);
  if (!files.some((f) => f.endsWith(".jsonl") || f.endsWith(".json"))) throw new Error(`no dataset files in ${out}: ${files}`);
  await page.keyboard.press("Escape");
});

await step("palette: Clear Results empties the view and removes the lenses", async () => {
  await page.keyboard.press("Escape");
  await page.setViewportSize({ width: 1440, height: 3600 });
  await page.waitForTimeout(500);
  const answers = (await resultRows()).filter((r) => r.level === 1).length;
  await page.setViewportSize({ width: 1440, height: 900 });
  if (answers !== 3) throw new Error(`expected three answers before clearing, the view lists ${answers}`);
  await palette("Semantic Scout: Clear Results");
  await waitFor(async () => (await resultRows()).length === 0, "an empty Results view");
  await waitFor(async () => !(await lensLines()).some((l) => /^risk \d/.test(l.text)), "the lenses to go");
});

await step("shadowing: a warning without a key; Set Anthropic API Key restarts the server with it", async () => {
  await palette("Notifications: Clear All Notifications");
  await palette("Semantic Scout: Toggle Haiku Shadowing");
  await notifications.filter({ hasText: /no Anthropic API key is set/ }).first().waitFor({ state: "visible" });
  await waitFor(async () => !/shadow off/.test(await statusItem.first().innerText()), "the status bar to show shadowing on");
  await palette("Notifications: Clear All Notifications");
  await palette("Semantic Scout: Set Anthropic API Key");
  await quickInputBox.waitFor({ state: "visible" });
  if ((await quickInputBox.getAttribute("type")) !== "password") throw new Error("the API key box does not hide what is typed");
  await quickInputBox.fill(FAKE_KEY);
  await quickInputBox.press("Enter");
  await notifications.filter({ hasText: /API key stored/ }).first().waitFor({ state: "visible" });
  // The server restarts with the key in its environment; shadowing is back to the setting (off).
  await waitFor(async () => /Scout: heuristic · shadow off/.test(await statusItem.first().innerText()), "the restarted server", 120_000);
  await palette("Notifications: Clear All Notifications");
  await palette("Semantic Scout: Toggle Haiku Shadowing");
  await notifications.filter({ hasText: /Haiku shadowing is on \(claude-haiku-4-5\)/ }).first().waitFor({ state: "visible" });
  await shot("08-shadowing-on");
  await palette("Semantic Scout: Toggle Haiku Shadowing");
  await notifications.filter({ hasText: /Haiku shadowing is off/ }).first().waitFor({ state: "visible" });
});

await step("a broken interpreter setting restarts the server and says how to fix it", async () => {
  // As a user would: the Settings editor, search, type a path that does not exist.
  await palette("Preferences: Open User Settings");
  const search = page.locator(".settings-editor .settings-header .suggest-input-container textarea, .settings-editor .settings-header textarea").first();
  await search.waitFor({ state: "visible" });
  await search.fill("semanticScout.server.interpreter");
  const input = page.locator(".settings-editor .setting-item-contents", { hasText: /Interpreter/ }).locator("input").first();
  await input.waitFor({ state: "visible" });
  await input.fill("/nonexistent/python3");
  await input.press("Tab");
  const toast = notifications.filter({ hasText: /cannot run the interpreter set in semanticScout\.server\.interpreter/ }).first();
  await toast.waitFor({ state: "visible", timeout: 30_000 });
  await waitFor(async () => /not running/.test(await statusItem.first().innerText()), "the status bar to say the server is not running");
  await shot("07-broken-interpreter");
});

await browser.close();
stopEditor();

// The extension's own log, kept as an artifact.
const logs = path.join(userData, "logs");
if (fs.existsSync(logs)) {
  for (const file of fs.readdirSync(logs, { recursive: true })) {
    if (String(file).endsWith("Semantic Scout.log")) fs.copyFileSync(path.join(logs, file), path.join(ARTIFACTS, "semantic-scout.log"));
  }
}
// Secrets are never logged: look for the key in every log the editor and the server wrote.
if (!failed && fs.existsSync(logs)) {
  const leaks = fs
    .readdirSync(logs, { recursive: true })
    .map((f) => path.join(logs, String(f)))
    .filter((f) => fs.statSync(f).isFile() && fs.readFileSync(f, "utf8").includes(FAKE_KEY));
  results.push({ name: "the API key appears in no log", status: leaks.length ? "failed" : "passed" });
  if (leaks.length) {
    failed = true;
    log(`FAIL the API key appears in ${leaks.join(", ")}`);
  } else {
    log("ok   the API key appears in no log");
  }
}
if (failed) {
  const extLog = path.join(ARTIFACTS, "semantic-scout.log");
  if (fs.existsSync(extLog)) log(`the extension's log:\n${fs.readFileSync(extLog, "utf8").split("\n").slice(-60).join("\n")}`);
}
if (!failed) fs.rmSync(scratch, { recursive: true, force: true });
else log(`scratch kept for a look: ${scratch}`);

const count = (status) => results.filter((r) => r.status === status).length;
log(`screenshots in ${path.relative(process.cwd(), ARTIFACTS) || ARTIFACTS}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
log(`${count("passed")} passed, ${count("failed")} failed, ${count("not run")} skipped`);
process.exit(failed ? 1 : 0);
