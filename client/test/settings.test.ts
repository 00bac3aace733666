import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  expandInterpreterPath,
  importStrategy,
  initializationOptions,
  interpreterSetting,
  needsRestart,
  serverSettings,
} from "../src/settings";

function reader(values: Record<string, unknown>): (key: string) => unknown {
  return (key) => values[key];
}

describe("serverSettings", () => {
  it("passes the server's keys through and nothing else", () => {
    const settings = serverSettings(
      reader({
        enable: false,
        select: ["ATL1", "ATL301"],
        ignore: ["ATL4"],
        targetVersion: "py311",
        showSyntaxErrors: true,
        lintOnChange: false,
        interpreter: "/usr/bin/python3",
        importStrategy: "fromEnvironment",
        "trace.server": "verbose",
      }),
    );
    assert.deepEqual(settings, {
      enable: false,
      select: ["ATL1", "ATL301"],
      ignore: ["ATL4"],
      targetVersion: "py311",
      showSyntaxErrors: true,
      lintOnChange: false,
    });
  });

  it("turns unset values into null so pyproject.toml's values stay in force", () => {
    assert.deepEqual(serverSettings(reader({})), {
      enable: null,
      select: null,
      ignore: null,
      targetVersion: null,
      showSyntaxErrors: null,
      lintOnChange: null,
    });
  });

  it("drops values of the wrong type instead of sending them", () => {
    const settings = serverSettings(
      reader({
        enable: "yes",
        select: "ATL1",
        ignore: ["ATL4", 3, "", "  "],
        targetVersion: "3.11",
        showSyntaxErrors: 1,
      }),
    );
    assert.equal(settings.enable, null);
    assert.equal(settings.select, null);
    assert.deepEqual(settings.ignore, ["ATL4"]);
    assert.equal(settings.targetVersion, null);
    assert.equal(settings.showSyntaxErrors, null);
  });

  it("keeps an empty select list (which selects nothing)", () => {
    assert.deepEqual(serverSettings(reader({ select: [] })).select, []);
  });

  it("accepts every target version the server knows", () => {
    for (const version of ["py37", "py38", "py39", "py310", "py313", "py314"]) {
      assert.equal(serverSettings(reader({ targetVersion: version })).targetVersion, version);
    }
  });

  it("nests the settings under the section for initializationOptions", () => {
    const settings = serverSettings(reader({ enable: true }));
    assert.deepEqual(initializationOptions(settings), { asyncTestLint: settings });
  });
});

describe("interpreterSetting and workspace trust", () => {
  const everywhere = {
    defaultValue: "",
    globalValue: "/home/me/py/bin/python3",
    workspaceValue: "/repo/.venv/bin/python",
    workspaceFolderValue: "/repo/pkg/.venv/bin/python",
  };

  it("takes the most specific value in a trusted workspace", () => {
    assert.equal(interpreterSetting(everywhere, true), "/repo/pkg/.venv/bin/python");
    assert.equal(
      interpreterSetting({ ...everywhere, workspaceFolderValue: undefined }, true),
      "/repo/.venv/bin/python",
    );
  });

  it("ignores the workspace's values in an untrusted workspace", () => {
    assert.equal(interpreterSetting(everywhere, false), "/home/me/py/bin/python3");
    assert.equal(interpreterSetting({ ...everywhere, globalValue: undefined }, false), undefined);
  });

  it("treats empty and blank values as unset", () => {
    assert.equal(interpreterSetting({ defaultValue: "", globalValue: "  " }, true), undefined);
    assert.equal(interpreterSetting({ workspaceValue: "", globalValue: " /py " }, true), "/py");
    assert.equal(interpreterSetting(undefined, true), undefined);
  });
});

describe("expandInterpreterPath", () => {
  const context = { workspaceFolder: "/repo", home: "/home/me", env: { PYENV: "/opt/pyenv" } };

  it("expands the variables VS Code leaves alone in settings", () => {
    assert.equal(
      expandInterpreterPath("${workspaceFolder}/.venv/bin/python", context),
      "/repo/.venv/bin/python",
    );
    assert.equal(expandInterpreterPath("~/py/bin/python", context), "/home/me/py/bin/python");
    assert.equal(
      expandInterpreterPath("${userHome}/py/bin/python", context),
      "/home/me/py/bin/python",
    );
    assert.equal(
      expandInterpreterPath("${env:PYENV}/bin/python", context),
      "/opt/pyenv/bin/python",
    );
    assert.equal(expandInterpreterPath("/usr/bin/python3", context), "/usr/bin/python3");
  });

  it("does not expand ~ inside a path", () => {
    assert.equal(expandInterpreterPath("/a/~b/python", context), "/a/~b/python");
  });

  it("gives up on ${workspaceFolder} without a folder", () => {
    assert.equal(
      expandInterpreterPath("${workspaceFolder}/.venv/bin/python", {
        ...context,
        workspaceFolder: undefined,
      }),
      undefined,
    );
  });
});

describe("importStrategy", () => {
  it("defaults to the bundled server", () => {
    assert.equal(importStrategy("fromEnvironment"), "fromEnvironment");
    assert.equal(importStrategy("useBundled"), "useBundled");
    assert.equal(importStrategy(undefined), "useBundled");
    assert.equal(importStrategy("something else"), "useBundled");
  });
});

describe("needsRestart", () => {
  const changed =
    (...sections: string[]) =>
    (section: string) =>
      sections.includes(section);

  it("restarts for the interpreter and the import strategy", () => {
    assert.equal(needsRestart(changed("asyncTestLint.interpreter")), true);
    assert.equal(needsRestart(changed("asyncTestLint.importStrategy")), true);
  });

  it("sends the server's own settings instead of restarting", () => {
    assert.equal(needsRestart(changed("asyncTestLint.select")), false);
    assert.equal(needsRestart(changed("asyncTestLint.trace.server")), false);
    assert.equal(needsRestart(changed("python.defaultInterpreterPath")), false);
  });
});
