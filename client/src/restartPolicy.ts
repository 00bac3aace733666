// When a crashed server is started again: at most `maxCrashes` crashes within `windowMs`, then
// stop and tell the user once, instead of restarting forever. No `vscode` import.

export type CrashDecision = "restart" | "giveUp";

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    readonly maxCrashes = 4,
    readonly windowMs = 3 * 60_000,
  ) {}

  /** Records a crash at `now` (ms) and says whether to start the server again. */
  recordCrash(now: number): CrashDecision {
    this.crashes = this.crashes.filter((time) => now - time < this.windowMs);
    this.crashes.push(now);
    return this.crashes.length > this.maxCrashes ? "giveUp" : "restart";
  }

  /** A restart the user asked for (command, settings change) starts with a clean record. */
  reset(): void {
    this.crashes = [];
  }

  get recentCrashes(): number {
    return this.crashes.length;
  }
}
