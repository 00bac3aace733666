import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  classifyExit,
  LAUNCHER_EXIT,
  launcherMessage,
  launcherPath,
  serverCommand,
  TailBuffer,
} from "../src/launch";
import { RestartPolicy } from "../src/restartPolicy";

const MINUTE = 60_000;

describe("RestartPolicy", () => {
  it("restarts up to the limit within the window, then gives up", () => {
    const policy = new RestartPolicy(3, 3 * MINUTE);
    assert.deepEqual(
      [0, 1000, 2000, 3000].map((time) => policy.recordCrash(time)),
      ["restart", "restart", "restart", "giveUp"],
    );
  });

  it("forgets crashes older than the window", () => {
    const policy = new RestartPolicy(2, MINUTE);
    assert.equal(policy.recordCrash(0), "restart");
    assert.equal(policy.recordCrash(10_000), "restart");
    assert.equal(policy.recordCrash(MINUTE + 5_000), "restart");
    assert.equal(policy.recentCrashes, 2);
    assert.equal(policy.recordCrash(MINUTE + 6_000), "giveUp");
  });

  it("starts over after a restart the user asked for", () => {
    const policy = new RestartPolicy(1, MINUTE);
    policy.recordCrash(0);
    assert.equal(policy.recordCrash(1), "giveUp");
    policy.reset();
    assert.equal(policy.recentCrashes, 0);
    assert.equal(policy.recordCrash(2), "restart");
  });

  it("defaults to four crashes in three minutes", () => {
    const policy = new RestartPolicy();
    assert.equal(policy.maxCrashes, 4);
    assert.equal(policy.windowMs, 3 * MINUTE);
  });
});

describe("classifyExit", () => {
  it("never restarts for the launcher's set-up errors", () => {
    for (const code of Object.values(LAUNCHER_EXIT)) {
      assert.equal(classifyExit(code), "setup");
    }
  });

  it("treats anything else as a crash", () => {
    for (const code of [null, 0, 1, 137, -11]) {
      assert.equal(classifyExit(code), "crash");
    }
  });
});

describe("launcherMessage", () => {
  it("returns the launcher's last explanation without its prefix", () => {
    const stderr = [
      "some warning",
      "async-test-lint: first",
      "async-test-lint: /usr/bin/python3 is Python 3.8.10; the server needs Python 3.9 or newer.",
      "",
    ].join("\n");
    assert.equal(
      launcherMessage(stderr),
      "/usr/bin/python3 is Python 3.8.10; the server needs Python 3.9 or newer.",
    );
  });

  it("returns undefined for a plain traceback", () => {
    assert.equal(
      launcherMessage("Traceback (most recent call last):\n  ...\nValueError: x\n"),
      undefined,
    );
  });
});

describe("serverCommand", () => {
  it("runs the launcher isolated, without site, without bytecode", () => {
    assert.deepEqual(serverCommand("/usr/bin/python3", "/ext", "useBundled"), {
      command: "/usr/bin/python3",
      args: ["-I", "-S", "-B", "/ext/bundled/tool/serve.py", "--import-strategy", "useBundled"],
    });
    assert.deepEqual(serverCommand("/py", "/ext", "fromEnvironment").args.slice(-2), [
      "--import-strategy",
      "fromEnvironment",
    ]);
    assert.equal(launcherPath("/ext"), "/ext/bundled/tool/serve.py");
  });
});

describe("TailBuffer", () => {
  it("keeps only the newest characters", () => {
    const buffer = new TailBuffer(5);
    buffer.append("abc");
    buffer.append("defg");
    assert.equal(buffer.toString(), "cdefg");
  });
});
