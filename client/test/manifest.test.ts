// The extension manifest and the launcher agree with the client code.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LAUNCHER_EXIT } from "../src/launch";
import { RESTART_KEYS, SECTION, SERVER_KEYS } from "../src/settings";

const root = join(__dirname, "..", "..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const properties: Record<string, { description?: string; markdownDescription?: string }> =
  manifest.contributes.configuration.properties;

describe("package.json", () => {
  it("contributes every setting the client reads, each with a description", () => {
    const expected = [...SERVER_KEYS, ...RESTART_KEYS, "trace.server"].map(
      (key) => `${SECTION}.${key}`,
    );
    assert.deepEqual(Object.keys(properties).sort(), expected.sort());
    for (const [key, property] of Object.entries(properties)) {
      assert.ok(property.description ?? property.markdownDescription, `${key} has no description`);
    }
  });

  it("restricts the interpreter setting in untrusted workspaces", () => {
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, "limited");
    assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, [
      `${SECTION}.interpreter`,
    ]);
  });

  it("activates on Python and points at the bundle", () => {
    assert.ok(manifest.activationEvents.includes("onLanguage:python"));
    assert.equal(manifest.main, "./dist/extension.js");
    assert.ok(manifest.categories.includes("Linters"));
    assert.equal(manifest.extensionDependencies, undefined);
  });

  it("declares the three commands", () => {
    const titles = manifest.contributes.commands.map(
      (command: { category: string; title: string }) => `${command.category}: ${command.title}`,
    );
    assert.deepEqual(titles, [
      "Async Test Lint: Restart Server",
      "Async Test Lint: Show Logs",
      "Async Test Lint: Fix All in File",
    ]);
  });
});

describe("bundled/tool/serve.py", () => {
  const launcher = readFileSync(join(root, "bundled", "tool", "serve.py"), "utf8");

  it("uses the exit codes the client interprets", () => {
    const codes = Object.fromEntries(
      [...launcher.matchAll(/^EXIT_([A-Z_]+) = (\d+)$/gm)].map((match) => [
        match[1],
        Number(match[2]),
      ]),
    );
    assert.deepEqual(codes, {
      PYTHON_TOO_OLD: LAUNCHER_EXIT.pythonTooOld,
      NO_BUNDLED_LIBS: LAUNCHER_EXIT.noBundledLibs,
      NOT_INSTALLED: LAUNCHER_EXIT.notInstalled,
    });
    assert.match(launcher, /fail\(2, "usage/);
  });
});
