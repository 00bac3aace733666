// The VS Code side: finds an interpreter, starts the bundled server through the launcher, keeps
// settings in step, restarts on crashes within limits, and adds three commands.
import { spawn, type ChildProcess } from "node:child_process";
import { homedir } from "node:os";
import * as vscode from "vscode";
import {
  CloseAction,
  type CloseHandlerResult,
  type ConfigurationParams,
  type ConfigurationRequest,
  ErrorAction,
  type ErrorHandlerResult,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  State,
} from "vscode-languageclient/node";
import {
  describeFailure,
  discoverInterpreter,
  findOnPath,
  PY_LAUNCHER,
  pyLauncherInterpreter,
  formatVersion,
  describeAttempt,
  type Interpreter,
  probeVersion,
} from "./interpreter";
import { classifyExit, launcherMessage, serverCommand, TailBuffer } from "./launch";
import { onPythonInterpreterChanged, pythonExtensionInterpreter } from "./pythonExtension";
import { RestartPolicy } from "./restartPolicy";
import {
  expandInterpreterPath,
  importStrategy,
  initializationOptions,
  interpreterSetting,
  needsRestart,
  SECTION,
  serverSettings,
} from "./settings";

const CLIENT_NAME = "Async Test Lint";
const FIX_ALL_KIND = vscode.CodeActionKind.SourceFixAll.append("async-test-lint");
const SHOW_LOGS = "Show Logs";
const OPEN_SETTINGS = "Open Settings";
const RESTART = "Restart";

/** One server process: its stderr tail and how it ended. */
class ServerProcess {
  readonly stderr = new TailBuffer();
  readonly exited: Promise<number | null>;
  reachedRunning = false;
  /** Its failure to start was shown to the user (once per process). */
  reported = false;

  constructor(readonly child: ChildProcess) {
    child.stderr?.on("data", (chunk: Buffer | string) => this.stderr.append(String(chunk)));
    this.exited = new Promise((resolve) => {
      child.on("exit", (code) => resolve(code));
      child.on("error", () => resolve(null));
    });
  }

  /** The exit code, waiting briefly: the pipes can close just before the exit is reported. */
  async exitCode(): Promise<number | null> {
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 2000));
    return Promise.race([this.exited, timeout]);
  }
}

class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private server: ServerProcess | undefined;
  private interpreter: Interpreter | undefined;
  private readonly policy = new RestartPolicy();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly channel: vscode.OutputChannel,
  ) {}

  /** Restarts are serialised: a settings change during a start waits for it. */
  restart(reason: string): Promise<void> {
    this.queue = this.queue
      .then(() => this.restartNow(reason))
      .catch((error: unknown) => {
        this.log(`Restart failed: ${String(error)}`);
      });
    return this.queue;
  }

  async dispose(): Promise<void> {
    await this.queue;
    await this.stopClient();
  }

  private log(message: string): void {
    this.channel.appendLine(`[client] ${message}`);
  }

  private async restartNow(reason: string): Promise<void> {
    this.log(reason);
    this.policy.reset();
    await this.stopClient();
    const interpreter = await this.findInterpreter();
    if (interpreter === undefined) {
      return;
    }
    this.interpreter = interpreter;
    await this.startClient(interpreter);
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    try {
      if (client.needsStop()) {
        await client.stop(5000);
      }
      await client.dispose();
    } catch (error) {
      this.log(`Stopping the server: ${String(error)}`);
    }
  }

  private workspaceFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
  }

  private async findInterpreter(): Promise<Interpreter | undefined> {
    const folder = this.workspaceFolder();
    const configuration = vscode.workspace.getConfiguration(SECTION, folder);
    const setting = interpreterSetting(
      configuration.inspect<string>("interpreter"),
      vscode.workspace.isTrusted,
    );
    const configured =
      setting === undefined
        ? undefined
        : expandInterpreterPath(setting, {
            workspaceFolder: folder?.uri.fsPath,
            home: homedir(),
            env: process.env,
          });
    const discovery = await discoverInterpreter({
      configured: setting === undefined ? undefined : (configured ?? setting),
      pythonExtensionInterpreter: () => pythonExtensionInterpreter(folder?.uri, (m) => this.log(m)),
      which: (command) => findOnPath(command, process.env.PATH),
      probe: (path) => probeVersion(path),
      platform: process.platform,
      pyLauncherInterpreter: async () => {
        const launcher = await findOnPath(PY_LAUNCHER.command, process.env.PATH);
        return launcher === undefined ? undefined : pyLauncherInterpreter(launcher);
      },
    });
    if (!discovery.found) {
      const message = describeFailure(discovery.attempts);
      this.log(message);
      void this.showError(message);
      return undefined;
    }
    for (const attempt of discovery.skipped) {
      this.log(`Skipped ${describeAttempt(attempt)}`);
    }
    const { interpreter } = discovery;
    const version = formatVersion(interpreter.version);
    this.log(`Python ${version} at ${interpreter.path} (from ${interpreter.source})`);
    return interpreter;
  }

  private spawnServer(interpreter: Interpreter): ChildProcess {
    const strategy = importStrategy(
      vscode.workspace.getConfiguration(SECTION, this.workspaceFolder()).get("importStrategy"),
    );
    const { command, args } = serverCommand(interpreter.path, this.context.extensionPath, strategy);
    this.log(`Starting: ${[command, ...args].join(" ")}`);
    const child = spawn(command, args, {
      cwd: this.workspaceFolder()?.uri.fsPath ?? this.context.extensionPath,
      stdio: "pipe",
    });
    this.server = new ServerProcess(child);
    return child;
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: [
        { scheme: "file", language: "python" },
        { scheme: "untitled", language: "python" },
        { scheme: "vscode-notebook-cell", language: "python" },
      ],
      outputChannel: this.channel,
      traceOutputChannel: this.channel,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: initializationOptions(
        serverSettings((key) =>
          vscode.workspace.getConfiguration(SECTION, this.workspaceFolder()).get(key),
        ),
      ),
      initializationFailedHandler: () => false,
      errorHandler: {
        error: (_error, _message, count) => this.onConnectionError(count),
        closed: () => this.onClosed(),
      },
      middleware: {
        workspace: {
          configuration: (params, token, next) => this.configuration(params, token, next),
        },
      },
    };
  }

  /** Answers `workspace/configuration` for our section with only the keys the server reads. */
  private async configuration(
    params: ConfigurationParams,
    token: vscode.CancellationToken,
    next: ConfigurationRequest.HandlerSignature,
  ): Promise<unknown[]> {
    const others = await next(params, token);
    return params.items.map((item, index) => {
      if (item.section !== SECTION) {
        return Array.isArray(others) ? others[index] : null;
      }
      const scope = item.scopeUri === undefined ? undefined : vscode.Uri.parse(item.scopeUri);
      const configuration = vscode.workspace.getConfiguration(SECTION, scope);
      return serverSettings((key) => configuration.get(key));
    });
  }

  private async startClient(interpreter: Interpreter): Promise<void> {
    const client = new LanguageClient(
      SECTION,
      CLIENT_NAME,
      () => Promise.resolve(this.spawnServer(interpreter)),
      this.clientOptions(),
    );
    this.client = client;
    client.onDidChangeState(({ newState }) => {
      if (newState === State.Running && this.server !== undefined) {
        this.server.reachedRunning = true;
      }
    });
    try {
      await client.start();
    } catch (error) {
      // Depending on which the client sees first, the failed `initialize` or the closed
      // connection, onClosed() may not run: report here too (once per process).
      await this.reportStartFailure(this.server, String(error));
    }
  }

  private async reportStartFailure(
    server: ServerProcess | undefined,
    otherwise: string,
  ): Promise<void> {
    if (server === undefined || server.reported) {
      return;
    }
    server.reported = true;
    const code = await server.exitCode();
    const exited = code === null ? otherwise : `the server exited with code ${code}`;
    const message = `Async Test Lint could not start the server: ${
      launcherMessage(server.stderr.toString()) ?? exited
    }`;
    this.log(message);
    void this.showError(message);
  }

  private onConnectionError(count: number | undefined): ErrorHandlerResult {
    return (count ?? 0) <= 3
      ? { action: ErrorAction.Continue, handled: true }
      : { action: ErrorAction.Shutdown };
  }

  private async onClosed(): Promise<CloseHandlerResult> {
    const server = this.server;
    const code = server === undefined ? null : await server.exitCode();
    if (classifyExit(code) === "setup" || server?.reachedRunning !== true) {
      await this.reportStartFailure(server, "the connection to the server closed");
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    if (this.policy.recordCrash(Date.now()) === "restart") {
      this.log(`The server exited (code ${String(code)}); restarting it.`);
      return { action: CloseAction.Restart, handled: true };
    }
    const message = `The Async Test Lint server crashed ${this.policy.recentCrashes} times in ${
      this.policy.windowMs / 60_000
    } minutes and will not be restarted. See the logs, then use "Async Test Lint: Restart Server".`;
    this.log(message);
    void this.showError(message);
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private async showError(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, SHOW_LOGS, OPEN_SETTINGS, RESTART);
    if (choice === SHOW_LOGS) {
      this.channel.show();
    } else if (choice === OPEN_SETTINGS) {
      await vscode.commands.executeCommand(
        "workbench.action.openSettings",
        `@ext:${this.extensionId()}`,
      );
    } else if (choice === RESTART) {
      await this.restart("Restart requested from the error message.");
    }
  }

  private extensionId(): string {
    return this.context.extension.id;
  }

  /** Whether the Python extension's choice matters now (no explicit interpreter setting). */
  usesPythonExtension(): boolean {
    return this.interpreter?.source === "pythonExtension" || this.interpreter === undefined;
  }
}

async function fixAllInFile(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || editor.document.languageId !== "python") {
    void vscode.window.showInformationMessage("Async Test Lint: open a Python file to fix.");
    return;
  }
  const { document } = editor;
  const everything = new vscode.Range(0, 0, document.lineCount, 0);
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[] | undefined>(
    "vscode.executeCodeActionProvider",
    document.uri,
    everything,
    FIX_ALL_KIND.value,
    1,
  );
  const fixAll = actions?.find((action) => action.kind?.value === FIX_ALL_KIND.value);
  if (fixAll === undefined || (fixAll.edit === undefined && fixAll.command === undefined)) {
    void vscode.window.showInformationMessage("Async Test Lint: nothing to fix in this file.");
    return;
  }
  if (fixAll.edit !== undefined) {
    await vscode.workspace.applyEdit(fixAll.edit);
  }
  if (fixAll.command !== undefined) {
    await vscode.commands.executeCommand(
      fixAll.command.command,
      ...(fixAll.command.arguments ?? []),
    );
  }
}

let activeController: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const channel = vscode.window.createOutputChannel(CLIENT_NAME);
  const controller = new ServerController(context, channel);
  activeController = controller;
  context.subscriptions.push(
    channel,
    vscode.commands.registerCommand("asyncTestLint.restart", () =>
      controller.restart("Restart requested."),
    ),
    vscode.commands.registerCommand("asyncTestLint.showLogs", () => channel.show()),
    vscode.commands.registerCommand("asyncTestLint.fixAll", fixAllInFile),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (needsRestart((section) => event.affectsConfiguration(section))) {
        void controller.restart("The interpreter settings changed: restarting the server.");
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      void controller.restart("The workspace is trusted now: restarting the server.");
    }),
  );
  // Not awaited: activation does not wait for the interpreter probe and the server start.
  void controller.restart(
    `Activating ${CLIENT_NAME} ${String(context.extension.packageJSON.version)}.`,
  );
  const pythonListener = await onPythonInterpreterChanged(() => {
    if (controller.usesPythonExtension()) {
      void controller.restart("The Python extension's interpreter changed: restarting the server.");
    }
  });
  if (pythonListener !== undefined) {
    context.subscriptions.push(pythonListener);
  }
}

/** VS Code waits for this promise: the server gets `shutdown` and `exit`. */
export function deactivate(): Promise<void> | undefined {
  const controller = activeController;
  activeController = undefined;
  return controller?.dispose();
}
