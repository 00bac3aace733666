// Which Python runs the server: the `asyncTestLint.interpreter` setting, else the Python
// extension's selected interpreter, else `python3` / `python` on PATH; each must be 3.9 or newer.
// No `vscode` import: the extension injects how to ask the Python extension.
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { posix, win32 } from "node:path";

export const MINIMUM_PYTHON: readonly [number, number] = [3, 9];
export const PATH_COMMANDS = ["python3", "python"] as const;

export interface PythonVersion {
  major: number;
  minor: number;
  micro: number;
}

export type InterpreterSource = "setting" | "pythonExtension" | "path" | "pyLauncher";

/** How the Windows Python launcher is asked for a Python 3 (`py -3`). */
export const PY_LAUNCHER = { command: "py", args: ["-3"], name: "py -3" } as const;

export interface Interpreter {
  path: string;
  version: PythonVersion;
  source: InterpreterSource;
}

interface Candidate {
  source: InterpreterSource;
  /** How the user knows it: the setting's name, "python3", ... */
  name: string;
}

/** A candidate that could not be used, and why. */
export type Attempt =
  | (Candidate & { problem: "notFound" })
  | (Candidate & { problem: "notRunnable"; path: string })
  | (Candidate & { problem: "tooOld"; path: string; version: PythonVersion });

export type Discovery =
  | { found: true; interpreter: Interpreter; skipped: Attempt[] }
  | { found: false; attempts: Attempt[] };

export interface DiscoveryEnvironment {
  /** The `interpreter` setting, already filtered for workspace trust and expanded. */
  configured: string | undefined;
  /** The Python extension's interpreter for the workspace, when that extension is installed. */
  pythonExtensionInterpreter: () => Promise<string | undefined>;
  /** Resolves a command name on PATH to a file. */
  which: (command: string) => Promise<string | undefined>;
  /** The version of the interpreter at a path, or undefined when it cannot be run. */
  probe: (path: string) => Promise<PythonVersion | undefined>;
  /** The operating system; on Windows the `py -3` launcher is tried after PATH. */
  platform?: NodeJS.Platform;
  /** The interpreter `py -3` starts (its `sys.executable`), or undefined (Windows only). */
  pyLauncherInterpreter?: () => Promise<string | undefined>;
}

export function formatVersion(version: PythonVersion): string {
  return `${version.major}.${version.minor}.${version.micro}`;
}

export function isSupported(version: PythonVersion): boolean {
  const [major, minor] = MINIMUM_PYTHON;
  return version.major > major || (version.major === major && version.minor >= minor);
}

/** Parses what the probe prints (`3.12.1`). */
export function parseVersion(text: string): PythonVersion | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
  if (!match) {
    return undefined;
  }
  return { major: Number(match[1]), minor: Number(match[2]), micro: Number(match[3]) };
}

async function examine(
  source: InterpreterSource,
  name: string,
  path: string,
  probe: DiscoveryEnvironment["probe"],
): Promise<Interpreter | Attempt> {
  const version = await probe(path);
  if (version === undefined) {
    return { source, name, path, problem: "notRunnable" };
  }
  if (!isSupported(version)) {
    return { source, name, path, version, problem: "tooOld" };
  }
  return { source, path, version };
}

function isInterpreter(result: Interpreter | Attempt): result is Interpreter {
  return !("problem" in result);
}

/**
 * Finds the interpreter. An explicit setting is final (a wrong one is reported, never silently
 * replaced); the Python extension's choice and PATH fall through to the next candidate.
 */
export async function discoverInterpreter(environment: DiscoveryEnvironment): Promise<Discovery> {
  const { configured, probe } = environment;
  if (configured !== undefined) {
    const result = await examine("setting", "asyncTestLint.interpreter", configured, probe);
    return isInterpreter(result)
      ? { found: true, interpreter: result, skipped: [] }
      : { found: false, attempts: [result] };
  }
  const attempts: Attempt[] = [];
  const fromExtension = await environment.pythonExtensionInterpreter();
  if (fromExtension !== undefined) {
    const result = await examine(
      "pythonExtension",
      "the Python extension's interpreter",
      fromExtension,
      probe,
    );
    if (isInterpreter(result)) {
      return { found: true, interpreter: result, skipped: attempts };
    }
    attempts.push(result);
  }
  for (const command of PATH_COMMANDS) {
    const path = await environment.which(command);
    if (path === undefined) {
      attempts.push({ source: "path", name: command, problem: "notFound" });
      continue;
    }
    const result = await examine("path", command, path, probe);
    if (isInterpreter(result)) {
      return { found: true, interpreter: result, skipped: attempts };
    }
    attempts.push(result);
  }
  if (environment.platform === "win32" && environment.pyLauncherInterpreter !== undefined) {
    const path = await environment.pyLauncherInterpreter();
    if (path === undefined) {
      attempts.push({ source: "pyLauncher", name: PY_LAUNCHER.name, problem: "notFound" });
    } else {
      const result = await examine("pyLauncher", PY_LAUNCHER.name, path, probe);
      if (isInterpreter(result)) {
        return { found: true, interpreter: result, skipped: attempts };
      }
      attempts.push(result);
    }
  }
  return { found: false, attempts };
}

export function describeAttempt(attempt: Attempt): string {
  if (attempt.problem === "notFound") {
    return `${attempt.name}: not found on PATH`;
  }
  const where = attempt.path !== attempt.name ? ` (${attempt.path})` : "";
  if (attempt.problem === "notRunnable") {
    return `${attempt.name}${where}: cannot be run as a Python interpreter`;
  }
  const minimum = MINIMUM_PYTHON.join(".");
  return `${attempt.name}${where}: Python ${formatVersion(attempt.version)} is older than ${minimum}`;
}

/** The message shown when no interpreter can run the server: what was tried and what to do. */
export function describeFailure(attempts: readonly Attempt[]): string {
  const minimum = MINIMUM_PYTHON.join(".");
  const tried = attempts.map(describeAttempt).join("; ");
  if (attempts.length === 1 && attempts[0].source === "setting") {
    return (
      `Async Test Lint cannot start: ${tried}. Set "asyncTestLint.interpreter" to a Python ` +
      `${minimum}+ interpreter, or clear it to use the Python extension's or the one on PATH.`
    );
  }
  return (
    `Async Test Lint needs Python ${minimum} or newer and found none (${tried}). ` +
    `Install Python ${minimum}+ or set "asyncTestLint.interpreter" to its path.`
  );
}

/** Prints the version on any Python, 2.7 included, so old interpreters are named correctly. */
export const PROBE_SCRIPT =
  "import sys; sys.stdout.write('%d.%d.%d' % tuple(sys.version_info[:3]))";

/** Runs the interpreter to learn its version (ignoring PYTHON* variables and the user site). */
export function probeVersion(path: string, timeoutMs = 15_000): Promise<PythonVersion | undefined> {
  return new Promise((resolve) => {
    execFile(path, ["-E", "-s", "-c", PROBE_SCRIPT], { timeout: timeoutMs }, (error, stdout) => {
      resolve(error ? undefined : parseVersion(String(stdout)));
    });
  });
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * The first executable `command` on `searchPath`. On Windows (`platform`, so tests can simulate
 * it): `;`-separated entries, which may be quoted (`"C:\Program Files\Python312"`), each tried
 * with the `PATHEXT` extensions unless the command already has one of them (`python.exe`).
 */
export async function findOnPath(
  command: string,
  searchPath: string | undefined,
  platform: NodeJS.Platform = process.platform,
  pathExt: string | undefined = process.env.PATHEXT,
  isExecutable: (path: string) => Promise<boolean> = isExecutableFile,
): Promise<string | undefined> {
  const windows = platform === "win32";
  const path = windows ? win32 : posix;
  if (path.isAbsolute(command)) {
    return (await isExecutable(command)) ? command : undefined;
  }
  const extensions = windows ? (pathExt ?? ".COM;.EXE;.BAT;.CMD").split(";").filter(Boolean) : [];
  const hasExtension = extensions.some((ext) => command.toUpperCase().endsWith(ext.toUpperCase()));
  const suffixes = windows && !hasExtension ? extensions : [""];
  const entries = (searchPath ?? "")
    .split(windows ? ";" : posix.delimiter)
    .map((entry) => (windows ? entry.trim().replace(/^"(.*)"$/, "$1") : entry))
    .filter(Boolean);
  for (const directory of entries) {
    for (const suffix of suffixes) {
      const candidate = path.join(directory, command + suffix);
      if (await isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** Prints the interpreter the launcher started. */
export const EXECUTABLE_SCRIPT = "import sys; sys.stdout.write(sys.executable)";

/**
 * The interpreter `py -3` runs (Windows' Python launcher picks the newest Python 3 installed, or
 * the one `PY_PYTHON` / `py.ini` name), as a path the server can then be started with directly.
 */
export function pyLauncherInterpreter(
  launcher: string,
  timeoutMs = 15_000,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const args = [...PY_LAUNCHER.args, "-E", "-s", "-c", EXECUTABLE_SCRIPT];
    execFile(launcher, args, { timeout: timeoutMs }, (error, stdout) => {
      const path = String(stdout).trim();
      resolve(error || path === "" ? undefined : path);
    });
  });
}
