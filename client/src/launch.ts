// How the server process is started, and what its exit code means. No `vscode` import.
import { posix, win32 } from "node:path";
import type { ImportStrategy } from "./settings";

/** Exit codes of bundled/tool/serve.py (kept in step with its docstring). */
export const LAUNCHER_EXIT = {
  usage: 2,
  pythonTooOld: 3,
  noBundledLibs: 4,
  notInstalled: 5,
} as const;

export interface ServerCommand {
  command: string;
  args: string[];
}

export function launcherPath(
  extensionRoot: string,
  platform: NodeJS.Platform = process.platform,
): string {
  return (platform === "win32" ? win32 : posix).join(extensionRoot, "bundled", "tool", "serve.py");
}

/**
 * `python -I -S -B serve.py --import-strategy S`: isolated mode (no PYTHONPATH, no user site, no
 * current directory on sys.path), no `site` (the environment's packages and .pth files stay out;
 * the launcher enables `site` itself for fromEnvironment) and no bytecode written.
 */
export function serverCommand(
  interpreter: string,
  extensionRoot: string,
  strategy: ImportStrategy,
  platform: NodeJS.Platform = process.platform,
): ServerCommand {
  // One argument each, never quoted: the process is spawned without a shell, so paths with
  // spaces (`C:\Program Files\...`, `~/Library/Application Support/...`) pass unchanged.
  const launcher = launcherPath(extensionRoot, platform);
  return {
    command: interpreter,
    args: ["-I", "-S", "-B", launcher, "--import-strategy", strategy],
  };
}

/** Why the server process ended: a set-up problem that a restart cannot fix, or a crash. */
export type ExitKind = "setup" | "crash";

export function classifyExit(code: number | null): ExitKind {
  const setupCodes: readonly number[] = [
    LAUNCHER_EXIT.usage,
    LAUNCHER_EXIT.pythonTooOld,
    LAUNCHER_EXIT.noBundledLibs,
    LAUNCHER_EXIT.notInstalled,
  ];
  return code !== null && setupCodes.includes(code) ? "setup" : "crash";
}

const LAUNCHER_PREFIX = "async-test-lint: ";

/** The launcher's own explanation in the process's stderr (its last `async-test-lint: ` line). */
export function launcherMessage(stderr: string): string | undefined {
  const lines = stderr
    .split(/\r?\n/)
    .filter((line) => line.startsWith(LAUNCHER_PREFIX))
    .map((line) => line.slice(LAUNCHER_PREFIX.length).trim());
  return lines.length > 0 ? lines[lines.length - 1] : undefined;
}

/** Keeps the last `limit` characters of a stream, for the error message after an exit. */
export class TailBuffer {
  private text = "";

  constructor(private readonly limit = 8192) {}

  append(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.limit);
  }

  toString(): string {
    return this.text;
  }
}
