import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type DiscoveryEnvironment,
  describeFailure,
  discoverInterpreter,
  findOnPath,
  isSupported,
  parseVersion,
  probeVersion,
  type PythonVersion,
} from "../src/interpreter";

function version(text: string): PythonVersion {
  const parsed = parseVersion(text);
  assert.ok(parsed, text);
  return parsed;
}

/** A machine described by what is on PATH and which version each path is. */
function environment(options: {
  configured?: string;
  pythonExtension?: string;
  onPath?: Record<string, string>;
  versions?: Record<string, string>;
}): DiscoveryEnvironment & { probed: string[] } {
  const probed: string[] = [];
  return {
    probed,
    configured: options.configured,
    pythonExtensionInterpreter: async () => options.pythonExtension,
    which: async (command) => options.onPath?.[command],
    probe: async (path) => {
      probed.push(path);
      const text = options.versions?.[path];
      return text === undefined ? undefined : version(text);
    },
  };
}

describe("discoverInterpreter", () => {
  it("uses the setting first, without looking further", async () => {
    const env = environment({
      configured: "/opt/py/bin/python",
      pythonExtension: "/venv/bin/python",
      onPath: { python3: "/usr/bin/python3" },
      versions: {
        "/opt/py/bin/python": "3.12.1",
        "/venv/bin/python": "3.11.0",
        "/usr/bin/python3": "3.10.0",
      },
    });
    const discovery = await discoverInterpreter(env);
    assert.deepEqual(discovery, {
      found: true,
      interpreter: { source: "setting", path: "/opt/py/bin/python", version: version("3.12.1") },
      skipped: [],
    });
    assert.deepEqual(env.probed, ["/opt/py/bin/python"]);
  });

  it("reports a setting that is too old instead of silently using another interpreter", async () => {
    const discovery = await discoverInterpreter(
      environment({
        configured: "/usr/bin/python3.8",
        onPath: { python3: "/usr/bin/python3" },
        versions: { "/usr/bin/python3.8": "3.8.18", "/usr/bin/python3": "3.12.0" },
      }),
    );
    assert.equal(discovery.found, false);
    assert.ok(!discovery.found);
    assert.deepEqual(discovery.attempts, [
      {
        source: "setting",
        name: "asyncTestLint.interpreter",
        path: "/usr/bin/python3.8",
        version: version("3.8.18"),
        problem: "tooOld",
      },
    ]);
    assert.match(describeFailure(discovery.attempts), /Python 3\.8\.18 is older than 3\.9/);
    assert.match(describeFailure(discovery.attempts), /Set "asyncTestLint.interpreter"/);
  });

  it("reports a setting that cannot be run", async () => {
    const discovery = await discoverInterpreter(environment({ configured: "/nope/python" }));
    assert.ok(!discovery.found);
    assert.equal(discovery.attempts[0].problem, "notRunnable");
    assert.match(describeFailure(discovery.attempts), /\/nope\/python\): cannot be run/);
  });

  it("uses the Python extension's interpreter when there is no setting", async () => {
    const discovery = await discoverInterpreter(
      environment({
        pythonExtension: "/repo/.venv/bin/python",
        onPath: { python3: "/usr/bin/python3" },
        versions: { "/repo/.venv/bin/python": "3.13.0", "/usr/bin/python3": "3.12.0" },
      }),
    );
    assert.ok(discovery.found);
    assert.equal(discovery.interpreter.source, "pythonExtension");
    assert.equal(discovery.interpreter.path, "/repo/.venv/bin/python");
  });

  it("falls back to PATH when the Python extension's interpreter is too old", async () => {
    const discovery = await discoverInterpreter(
      environment({
        pythonExtension: "/old/.venv/bin/python",
        onPath: { python3: "/usr/bin/python3" },
        versions: { "/old/.venv/bin/python": "3.7.16", "/usr/bin/python3": "3.11.7" },
      }),
    );
    assert.ok(discovery.found);
    assert.equal(discovery.interpreter.source, "path");
    assert.equal(discovery.interpreter.path, "/usr/bin/python3");
    assert.deepEqual(
      discovery.skipped.map((attempt) => [attempt.source, attempt.problem]),
      [["pythonExtension", "tooOld"]],
    );
  });

  it("tries python3, then python", async () => {
    const discovery = await discoverInterpreter(
      environment({
        onPath: { python3: "/usr/bin/python3", python: "/usr/local/bin/python" },
        versions: { "/usr/bin/python3": "3.8.10", "/usr/local/bin/python": "3.10.2" },
      }),
    );
    assert.ok(discovery.found);
    assert.equal(discovery.interpreter.path, "/usr/local/bin/python");
    assert.deepEqual(discovery.interpreter.version, version("3.10.2"));
  });

  it("explains what it tried when nothing fits", async () => {
    const discovery = await discoverInterpreter(
      environment({
        onPath: { python: "/usr/bin/python" },
        versions: { "/usr/bin/python": "2.7.18" },
      }),
    );
    assert.ok(!discovery.found);
    const message = describeFailure(discovery.attempts);
    assert.match(message, /needs Python 3\.9 or newer and found none/);
    assert.match(message, /python3: not found on PATH/);
    assert.match(message, /python \(\/usr\/bin\/python\): Python 2\.7\.18 is older than 3\.9/);
    assert.match(message, /set "asyncTestLint.interpreter"/);
  });
});

describe("versions", () => {
  it("parses the probe's output", () => {
    assert.deepEqual(parseVersion("3.12.1\n"), { major: 3, minor: 12, micro: 1 });
    assert.equal(parseVersion("Python 3.12.1"), undefined);
    assert.equal(parseVersion(""), undefined);
  });

  it("supports 3.9 and newer only", () => {
    assert.equal(isSupported(version("3.9.0")), true);
    assert.equal(isSupported(version("3.14.0")), true);
    assert.equal(isSupported(version("4.0.0")), true);
    assert.equal(isSupported(version("3.8.18")), false);
    assert.equal(isSupported(version("2.7.18")), false);
  });
});

describe("probing real executables", () => {
  let directory: string;

  async function script(name: string, body: string): Promise<string> {
    const path = join(directory, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), "atl-interpreter-"));
  });

  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("reads the version a fake interpreter prints", async () => {
    const fake = await script("fake-python", 'printf "3.11.4"');
    assert.deepEqual(await probeVersion(fake), { major: 3, minor: 11, micro: 4 });
  });

  it("passes -E -s and the probe script", async () => {
    const echo = await script(
      "echo-args",
      'if [ "$1 $2 $3" = "-E -s -c" ]; then printf "3.9.0"; fi',
    );
    assert.deepEqual(await probeVersion(echo), { major: 3, minor: 9, micro: 0 });
  });

  it("gives undefined for a failing or missing program or a hung one", async () => {
    const failing = await script("failing-python", "exit 1");
    const hanging = await script("hanging-python", "sleep 5");
    assert.equal(await probeVersion(failing), undefined);
    assert.equal(await probeVersion(join(directory, "missing")), undefined);
    assert.equal(await probeVersion(hanging, 200), undefined);
  });

  it("finds the first executable on PATH and skips directories and plain files", async () => {
    const first = join(directory, "first");
    const second = join(directory, "second");
    await mkdir(join(first, "python3"), { recursive: true });
    await mkdir(second, { recursive: true });
    await writeFile(join(first, "python"), "not executable");
    const wanted = join(second, "python3");
    await writeFile(wanted, "#!/bin/sh\n");
    await chmod(wanted, 0o755);
    const searchPath = [first, "", second].join(":");
    assert.equal(await findOnPath("python3", searchPath, "linux"), wanted);
    assert.equal(await findOnPath("python", searchPath, "linux"), undefined);
    assert.equal(await findOnPath("python3", undefined, "linux"), undefined);
    assert.equal(await findOnPath(wanted, undefined, "linux"), wanted);
  });
});
