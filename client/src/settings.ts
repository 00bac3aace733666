// Translation of the `asyncTestLint.*` VS Code settings into what the server and the launcher get.
// No `vscode` import: the extension passes plain values in, so the unit tests call these directly.

export const SECTION = "asyncTestLint";

/** The keys the server reads (docs/language-server.md "Settings"); the others are client-only. */
export const SERVER_KEYS = [
  "enable",
  "select",
  "ignore",
  "targetVersion",
  "showSyntaxErrors",
  "lintOnChange",
] as const;

/** Client-only keys whose change needs a new server process. */
export const RESTART_KEYS = ["interpreter", "importStrategy"] as const;

export type ImportStrategy = "useBundled" | "fromEnvironment";

/** The server's view of the settings; `null` means "keep pyproject.toml's value / the default". */
export interface ServerSettings {
  enable: boolean | null;
  select: string[] | null;
  ignore: string[] | null;
  targetVersion: string | null;
  showSyntaxErrors: boolean | null;
  lintOnChange: boolean | null;
}

const TARGET_VERSION = /^py3\d{1,2}$/;

function booleanOrNull(value: unknown): boolean | null {
  return typeof value === "boolean" ? value : null;
}

function selectorsOrNull(value: unknown): string[] | null {
  if (!Array.isArray(value)) {
    return null;
  }
  return value.filter((item): item is string => typeof item === "string" && item.trim() !== "");
}

/**
 * The server settings from a reader of the section's values (`WorkspaceConfiguration.get`).
 * A value of the wrong type becomes `null`, so the server falls back instead of receiving junk.
 */
export function serverSettings(read: (key: string) => unknown): ServerSettings {
  const targetVersion = read("targetVersion");
  return {
    enable: booleanOrNull(read("enable")),
    select: selectorsOrNull(read("select")),
    ignore: selectorsOrNull(read("ignore")),
    targetVersion:
      typeof targetVersion === "string" && TARGET_VERSION.test(targetVersion)
        ? targetVersion
        : null,
    showSyntaxErrors: booleanOrNull(read("showSyntaxErrors")),
    lintOnChange: booleanOrNull(read("lintOnChange")),
  };
}

/** The initialization options: the server accepts `{"asyncTestLint": {...}}`. */
export function initializationOptions(settings: ServerSettings): { [SECTION]: ServerSettings } {
  return { [SECTION]: settings };
}

export function importStrategy(value: unknown): ImportStrategy {
  return value === "fromEnvironment" ? "fromEnvironment" : "useBundled";
}

/** What `WorkspaceConfiguration.inspect` returns, reduced to the scopes that matter here. */
export interface InspectedValue<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/**
 * The `interpreter` setting to use, or undefined when it is not set. In an untrusted workspace
 * only the user's (global) value counts: a workspace must not pick the program VS Code runs.
 */
export function interpreterSetting(
  inspected: InspectedValue<string> | undefined,
  workspaceTrusted: boolean,
): string | undefined {
  const candidates = workspaceTrusted
    ? [inspected?.workspaceFolderValue, inspected?.workspaceValue, inspected?.globalValue]
    : [inspected?.globalValue];
  return candidates.find((value) => typeof value === "string" && value.trim() !== "")?.trim();
}

export interface PathContext {
  workspaceFolder: string | undefined;
  home: string;
  env: Readonly<Record<string, string | undefined>>;
  /** On Windows `~\` starts a home-relative path too. Default: this machine's. */
  platform?: NodeJS.Platform;
}

/**
 * Expands `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}` in an interpreter path
 * (VS Code does not expand variables in settings). Returns undefined when it names a workspace folder and
 * there is none.
 */
export function expandInterpreterPath(value: string, context: PathContext): string | undefined {
  if (value.includes("${workspaceFolder}") && context.workspaceFolder === undefined) {
    return undefined;
  }
  const expanded = value
    .replace(/\$\{workspaceFolder\}/g, context.workspaceFolder ?? "")
    .replace(/\$\{userHome\}/g, context.home)
    .replace(/\$\{env:([^}]+)\}/g, (_, name: string) => context.env[name] ?? "");
  const windows = (context.platform ?? process.platform) === "win32";
  const homeRelative =
    expanded === "~" || expanded.startsWith("~/") || (windows && expanded.startsWith("~\\"));
  return homeRelative ? context.home + expanded.slice(1) : expanded;
}

/** Whether a configuration change needs a new server process (else it is sent to the server). */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return RESTART_KEYS.some((key) => affects(`${SECTION}.${key}`));
}
