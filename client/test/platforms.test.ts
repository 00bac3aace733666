// Interpreter discovery and the server command on Windows and macOS, with the platform simulated:
// Windows paths (`python.exe`, `Scripts\`, spaces, quoted PATH entries, PATHEXT), the `py -3`
// launcher, the Microsoft Store's `python3.exe` stub; macOS framework, Homebrew and Xcode paths.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type DiscoveryEnvironment,
  describeFailure,
  discoverInterpreter,
  findOnPath,
  parseVersion,
  probeVersion,
  pyLauncherInterpreter,
  type PythonVersion,
} from "../src/interpreter";
import { launcherPath, serverCommand } from "../src/launch";
import { expandInterpreterPath } from "../src/settings";

function version(text: string): PythonVersion {
  const parsed = parseVersion(text);
  assert.ok(parsed, text);
  return parsed;
}

/** A simulated machine: the files that exist (case-insensitive on Windows) and their versions. */
function machine(options: {
  platform: NodeJS.Platform;
  path: string;
  files: Record<string, string | null>;
  configured?: string;
  pythonExtension?: string;
  pyLauncher?: string;
  pathExt?: string;
}): DiscoveryEnvironment & { probed: string[] } {
  const windows = options.platform === "win32";
  const key = (path: string) => (windows ? path.toLowerCase() : path);
  const files = new Map(Object.entries(options.files).map(([path, v]) => [key(path), v]));
  const probed: string[] = [];
  return {
    probed,
    platform: options.platform,
    configured: options.configured,
    pythonExtensionInterpreter: async () => options.pythonExtension,
    which: (command) =>
      findOnPath(command, options.path, options.platform, options.pathExt, async (path) =>
        files.has(key(path)),
      ),
    probe: async (path) => {
      probed.push(path);
      const text = files.get(key(path));
      return text === undefined || text === null ? undefined : version(text);
    },
    pyLauncherInterpreter: async () => options.pyLauncher,
  };
}

const WINDOWS_PATH = [
  "C:\\Windows\\system32",
  "C:\\Users\\Jane Doe\\AppData\\Local\\Microsoft\\WindowsApps",
  '"C:\\Program Files\\Python312"',
  "C:\\Windows",
].join(";");

describe("Windows (simulated)", () => {
  it("finds python.exe through PATHEXT in a quoted PATH entry with spaces", async () => {
    const found = await findOnPath(
      "python",
      WINDOWS_PATH,
      "win32",
      ".COM;.EXE;.BAT;.CMD",
      async (path) => path === "C:\\Program Files\\Python312\\python.EXE",
    );
    assert.equal(found, "C:\\Program Files\\Python312\\python.EXE");
  });

  it("does not append PATHEXT to a command that has an extension", async () => {
    const tried: string[] = [];
    const found = await findOnPath("python.exe", "C:\\Py", "win32", ".EXE;.CMD", async (path) => {
      tried.push(path);
      return path === "C:\\Py\\python.exe";
    });
    assert.equal(found, "C:\\Py\\python.exe");
    assert.deepEqual(tried, ["C:\\Py\\python.exe"]);
  });

  it("takes an absolute Windows path as it is", async () => {
    const path = "C:\\Users\\Jane Doe\\proj\\.venv\\Scripts\\python.exe";
    assert.equal(await findOnPath(path, "", "win32", ".EXE", async (p) => p === path), path);
    assert.equal(await findOnPath(path, "", "win32", ".EXE", async () => false), undefined);
  });

  it("skips the Microsoft Store stub and uses the python.exe on PATH after it", async () => {
    const stub = "C:\\Users\\Jane Doe\\AppData\\Local\\Microsoft\\WindowsApps\\python3.exe";
    const real = "C:\\Program Files\\Python312\\python.exe";
    const env = machine({
      platform: "win32",
      path: WINDOWS_PATH,
      pathExt: ".COM;.EXE",
      files: { [stub]: null, [real]: "3.12.4" },
    });
    const discovery = await discoverInterpreter(env);
    assert.ok(discovery.found);
    // PATHEXT's spelling; Windows file names are case-insensitive.
    assert.equal(discovery.interpreter.path.toLowerCase(), real.toLowerCase());
    assert.equal(discovery.interpreter.source, "path");
    assert.deepEqual(
      discovery.skipped.map((attempt) => [attempt.name, attempt.problem]),
      [["python3", "notRunnable"]],
    );
  });

  it("falls back to the py -3 launcher when PATH has no usable python", async () => {
    const launched = "C:\\Users\\Jane Doe\\AppData\\Local\\Programs\\Python\\Python311\\python.exe";
    const env = machine({
      platform: "win32",
      path: WINDOWS_PATH,
      files: { [launched]: "3.11.9" },
      pyLauncher: launched,
    });
    const discovery = await discoverInterpreter(env);
    assert.ok(discovery.found);
    assert.deepEqual(discovery.interpreter, {
      source: "pyLauncher",
      path: launched,
      version: version("3.11.9"),
    });
    assert.deepEqual(
      discovery.skipped.map((attempt) => attempt.name),
      ["python3", "python"],
    );
  });

  it("names py -3 among the candidates when nothing fits", async () => {
    const env = machine({ platform: "win32", path: WINDOWS_PATH, files: {} });
    const discovery = await discoverInterpreter(env);
    assert.ok(!discovery.found);
    assert.deepEqual(
      discovery.attempts.map((attempt) => attempt.name),
      ["python3", "python", "py -3"],
    );
    assert.match(describeFailure(discovery.attempts), /py -3: not found/);
  });

  it("does not try py -3 on other platforms", async () => {
    const env = machine({ platform: "linux", path: "/usr/bin", files: {}, pyLauncher: "/x" });
    const discovery = await discoverInterpreter(env);
    assert.ok(!discovery.found);
    assert.deepEqual(
      discovery.attempts.map((attempt) => attempt.name),
      ["python3", "python"],
    );
  });

  it("uses a venv's Scripts\\python.exe from the Python extension", async () => {
    const venv = "C:\\Users\\Jane Doe\\My Projects\\api\\.venv\\Scripts\\python.exe";
    const env = machine({
      platform: "win32",
      path: WINDOWS_PATH,
      files: { [venv]: "3.13.1" },
      pythonExtension: venv,
    });
    const discovery = await discoverInterpreter(env);
    assert.ok(discovery.found);
    assert.equal(discovery.interpreter.path, venv);
    assert.deepEqual(env.probed, [venv]);
  });

  it("expands ${workspaceFolder}\\.venv\\Scripts\\python.exe and ~\\ in the setting", () => {
    const context = {
      workspaceFolder: "C:\\Users\\Jane Doe\\My Projects\\api",
      home: "C:\\Users\\Jane Doe",
      env: { LOCALAPPDATA: "C:\\Users\\Jane Doe\\AppData\\Local" },
      platform: "win32" as const,
    };
    assert.equal(
      expandInterpreterPath("${workspaceFolder}\\.venv\\Scripts\\python.exe", context),
      "C:\\Users\\Jane Doe\\My Projects\\api\\.venv\\Scripts\\python.exe",
    );
    assert.equal(
      expandInterpreterPath("~\\.venvs\\tools\\Scripts\\python.exe", context),
      "C:\\Users\\Jane Doe\\.venvs\\tools\\Scripts\\python.exe",
    );
    assert.equal(
      expandInterpreterPath(
        "${env:LOCALAPPDATA}\\Programs\\Python\\Python312\\python.exe",
        context,
      ),
      "C:\\Users\\Jane Doe\\AppData\\Local\\Programs\\Python\\Python312\\python.exe",
    );
    // `~\` is an ordinary name elsewhere.
    assert.equal(expandInterpreterPath("~\\x", { ...context, platform: "linux" }), "~\\x");
  });

  it("starts the launcher with Windows paths, spaces kept in single arguments", () => {
    const root = "C:\\Users\\Jane Doe\\.vscode\\extensions\\async-test-lint.async-test-lint-0.1.0";
    const python = "C:\\Program Files\\Python312\\python.exe";
    const { command, args } = serverCommand(python, root, "useBundled", "win32");
    assert.equal(command, python);
    assert.deepEqual(args, [
      "-I",
      "-S",
      "-B",
      `${root}\\bundled\\tool\\serve.py`,
      "--import-strategy",
      "useBundled",
    ]);
    assert.equal(launcherPath(root, "win32"), `${root}\\bundled\\tool\\serve.py`);
  });
});

describe("macOS (simulated)", () => {
  const PATH = "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin";

  it("prefers Homebrew's python3 on PATH over Xcode's /usr/bin/python3", async () => {
    const env = machine({
      platform: "darwin",
      path: PATH,
      files: { "/opt/homebrew/bin/python3": "3.13.2", "/usr/bin/python3": "3.9.6" },
    });
    const discovery = await discoverInterpreter(env);
    assert.ok(discovery.found);
    assert.equal(discovery.interpreter.path, "/opt/homebrew/bin/python3");
  });

  it("skips an old Xcode python3 and reports it when nothing else fits", async () => {
    const env = machine({
      platform: "darwin",
      path: PATH,
      files: { "/usr/bin/python3": "3.8.9" },
    });
    const discovery = await discoverInterpreter(env);
    assert.ok(!discovery.found);
    assert.match(describeFailure(discovery.attempts), /\/usr\/bin\/python3\): Python 3\.8\.9/);
  });

  it("uses a python.org framework interpreter named in the setting", async () => {
    const framework = "/Library/Frameworks/Python.framework/Versions/3.12/bin/python3";
    const env = machine({ platform: "darwin", path: PATH, files: { [framework]: "3.12.8" } });
    const discovery = await discoverInterpreter({ ...env, configured: framework });
    assert.ok(discovery.found);
    assert.equal(discovery.interpreter.source, "setting");
    assert.equal(discovery.interpreter.path, framework);
  });

  it("starts the launcher from an extension folder with spaces", () => {
    const root = "/Users/jane/Library/Application Support/Code/extensions/atl";
    const { args } = serverCommand("/opt/homebrew/bin/python3", root, "fromEnvironment", "darwin");
    assert.equal(args[3], `${root}/bundled/tool/serve.py`);
    assert.equal(args.length, 6);
  });
});

describe("paths with spaces on this machine (real processes)", () => {
  let directory = "";
  let fake = "";

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), "atl platforms "));
    const bin = join(directory, "My Python", "bin");
    await mkdir(bin, { recursive: true });
    fake = join(bin, "python3");
    // Answers the version probe and the `py -3` question, like a real interpreter would.
    await writeFile(
      fake,
      `#!/bin/sh\ncase "$*" in *executable*) printf '%s' "$0" ;; *) printf '3.12.2' ;; esac\n`,
    );
    await chmod(fake, 0o755);
  });

  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("finds, probes and resolves an interpreter in a folder with spaces", async (t) => {
    if (process.platform === "win32") {
      t.skip("uses a POSIX shell script as the fake interpreter");
      return;
    }
    const searchPath = ["/nonexistent", join(directory, "My Python", "bin")].join(":");
    const found = await findOnPath("python3", searchPath, process.platform);
    assert.equal(found, fake);
    assert.deepEqual(await probeVersion(fake), { major: 3, minor: 12, micro: 2 });
    assert.equal(await pyLauncherInterpreter(fake), fake);
    const { command, args } = serverCommand(fake, directory, "useBundled");
    const output = await new Promise<string>((resolve, reject) => {
      execFile(command, [...args, "executable"], (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
    });
    assert.equal(output, fake);
  });
});
