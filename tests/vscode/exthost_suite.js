"use strict";
// Extension-host test suite: VS Code loads this file (payload `extensionTestsPath`) in the
// extension host of code-server and calls `run()`; its settlement becomes the exit code the
// workbench reports through `codeAutomationExit`. It talks to the installed extension only through
// the public VS Code API, like an extension's own integration tests under @vscode/test-electron.
//
// The expectations come from the engine's CLI (tests/vscode/test_vscode_e2e.py writes them to
// `exthost-config.json` next to the workspace folder); the suite writes its results to
// config.suiteResultPath so the wrapper can check that it really ran and how many tests passed.

const fs = require("node:fs");
const path = require("node:path");
const vscode = require("vscode");

const WAIT_MS = 60_000;
const SOURCE = "async-test-lint";
const FIX_ALL = "source.fixAll.async-test-lint";
const SEVERITIES = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

function loadConfig() {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error("code-server opened no workspace folder");
  const configPath = path.join(path.dirname(folder.uri.fsPath), "exthost-config.json");
  return JSON.parse(fs.readFileSync(configPath, "utf8"));
}

function toRange({ line, character, endLine, endCharacter }) {
  return new vscode.Range(line, character, endLine, endCharacter);
}

function codeOf(diagnostic) {
  const { code } = diagnostic;
  return String(typeof code === "object" ? code.value : code);
}

function describeRange(range) {
  return `${range.start.line}:${range.start.character}-${range.end.line}:${range.end.character}`;
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function assertEqual(actual, expected, what) {
  assert(
    JSON.stringify(actual) === JSON.stringify(expected),
    `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
  );
}

async function waitFor(what, probe) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  for (;;) {
    last = await probe();
    if (last.done) return last.value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${last.why}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ourDiagnostics(uri, count) {
  return waitFor(`${count} ${SOURCE} diagnostics`, () => {
    const found = vscode.languages.getDiagnostics(uri).filter((d) => d.source === SOURCE);
    return { done: found.length === count, value: found, why: `${found.length} so far` };
  });
}

/** Waits until the diagnostics are as many as expected, then compares their codes. */
async function diagnosticsAre(uri, expected) {
  const found = await ourDiagnostics(uri, expected.length);
  const codes = found.map(codeOf).sort();
  assertEqual(codes, expected.map((d) => d.code).sort(), "codes after the edit");
}

async function codeActions(uri, range, kind, resolveCount) {
  return (await vscode.commands.executeCommand(
    "vscode.executeCodeActionProvider",
    uri,
    range,
    kind,
    resolveCount,
  )) || [];
}

/** The action's workspace edit; `itemResolveCount` made VS Code run codeAction/resolve for it. */
async function applyAction(action) {
  assert(action.edit, `"${action.title}" has no edit after resolve (codeAction/resolve not run?)`);
  const applied = await vscode.workspace.applyEdit(action.edit);
  assert(applied, `VS Code refused the edit of "${action.title}"`);
}

function tests(config) {
  const uri = vscode.Uri.file(config.filePath);
  const expected = config.diagnostics;
  const target = expected.find((diagnostic) => diagnostic.code === config.quickFix.code);
  assert(target, `no ${config.quickFix.code} among the expected diagnostics`);
  let document;

  return [
    ["the extension publishes the engine's diagnostics", async () => {
      document = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(document);
      const found = await ourDiagnostics(uri, expected.length);
      const sorted = [...found].sort((a, b) => a.range.start.compareTo(b.range.start));
      assertEqual(sorted.map(codeOf), expected.map((d) => d.code), "codes");
      assertEqual(
        sorted.map((d) => describeRange(d.range)),
        expected.map((d) => describeRange(toRange(d))),
        "ranges",
      );
      assertEqual(sorted.map((d) => d.message), expected.map((d) => d.message), "messages");
      assertEqual(
        sorted.map((d) => d.severity),
        expected.map((d) => SEVERITIES[d.severity]),
        "severities",
      );
    }],
    ["hover shows the rule's explanation", async () => {
      const hovers = await vscode.commands.executeCommand(
        "vscode.executeHoverProvider",
        uri,
        toRange(target).start,
      );
      const text = (hovers || [])
        .flatMap((hover) => hover.contents)
        .map((content) => (typeof content === "string" ? content : content.value))
        .join("\n");
      for (const snippet of config.hover.mustContainMarkdown) {
        const got = JSON.stringify(text.slice(0, 500));
        assert(text.includes(snippet), `hover lacks ${JSON.stringify(snippet)}; got ${got}`);
      }
    }],
    ["code actions list the quick fix and the suppression, edits left to resolve", async () => {
      const actions = await codeActions(uri, toRange(target));
      const titles = actions.map((action) => action.title);
      const quickFix = actions.find((action) => action.title === config.quickFix.title);
      assert(quickFix, `no "${config.quickFix.title}" in ${JSON.stringify(titles)}`);
      assertEqual(quickFix.kind?.value, "quickfix", "quick fix kind");
      // The server builds edits in codeAction/resolve only: listing must not have computed one.
      assert(quickFix.edit === undefined, "the listed quick fix already carries its edit");
      assert(
        titles.some((title) => title.startsWith(`Suppress ${config.quickFix.code}`)),
        `no suppression in ${JSON.stringify(titles)}`,
      );
    }],
    ["the fix-all source action is offered for its kind", async () => {
      const whole = new vscode.Range(0, 0, document.lineCount, 0);
      const actions = await codeActions(uri, whole, FIX_ALL);
      assertEqual(actions.map((action) => action.kind?.value), [FIX_ALL], "fix-all kinds");
    }],
    ["applying the quick fix gives the engine's text", async () => {
      const actions = await codeActions(uri, toRange(target), undefined, 50);
      const action = actions.find((candidate) => candidate.title === config.quickFix.title);
      assert(action, `quick fix "${config.quickFix.title}" not offered`);
      await applyAction(action);
      assertEqual(document.getText(), config.quickFix.text, "text after the quick fix");
      await diagnosticsAre(uri, config.quickFix.remaining);
    }],
    ["applying fix-all gives the engine's text", async () => {
      const whole = new vscode.Range(0, 0, document.lineCount, 0);
      const [action] = await codeActions(uri, whole, FIX_ALL, 1);
      assert(action, "no fix-all action after the quick fix");
      await applyAction(action);
      assertEqual(document.getText(), config.saved.text, "text after fix-all");
      await diagnosticsAre(uri, config.saved.remaining);
    }],
  ];
}

async function run() {
  const config = loadConfig();
  const suite = tests(config);
  const results = [];
  for (const [name, body] of suite) {
    const started = Date.now();
    try {
      await body();
      results.push({ name, ok: true, ms: Date.now() - started });
    } catch (error) {
      const failure = String(error.stack || error);
      results.push({ name, ok: false, ms: Date.now() - started, error: failure });
      break; // later tests build on the document state of earlier ones
    }
  }
  const passed = results.filter((result) => result.ok).length;
  const summary = { total: suite.length, passed, failed: results.length - passed, tests: results };
  fs.writeFileSync(config.suiteResultPath, JSON.stringify(summary, null, 2));
  if (passed !== summary.total) {
    const missing = summary.total - passed;
    throw new Error(`${missing} of ${summary.total} extension-host tests failed or did not run`);
  }
}

module.exports = { run };
