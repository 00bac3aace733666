"use strict";
// Shared by the Playwright drivers: Debian's Chromium, a step recorder that writes the results
// JSON the pytest wrapper reads, and a screenshot when a step fails.
//
// Every driver reads its configuration from the JSON file named by $ATL_E2E_CONFIG (written by
// tests/vscode/test_vscode_e2e.py) and writes {ok, steps: [{name, ok, ms, detail}]} to
// config.resultPath, also when it fails half way.

const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function readConfig() {
  const configPath = process.env.ATL_E2E_CONFIG;
  if (!configPath) {
    throw new Error("ATL_E2E_CONFIG is not set (run through tests/vscode/test_vscode_e2e.py)");
  }
  return JSON.parse(fs.readFileSync(configPath, "utf8"));
}

async function launchBrowser(config) {
  return chromium.launch({
    executablePath: config.chromium,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

/** Records named steps; `run` writes the results file and screenshots the page on failure. */
class Steps {
  constructor(config) {
    this.config = config;
    this.steps = [];
    this.page = undefined;
  }

  async step(name, body) {
    const started = Date.now();
    try {
      const detail = await body();
      this.steps.push({ name, ok: true, ms: Date.now() - started, detail: detail ?? null });
      return detail;
    } catch (error) {
      const detail = String(error.stack || error);
      this.steps.push({ name, ok: false, ms: Date.now() - started, detail });
      throw error;
    }
  }

  async run(name, body) {
    let ok = false;
    try {
      await body();
      ok = true;
    } catch (error) {
      process.stderr.write(`${name}: ${error.stack || error}\n`);
      await this.screenshot(`${name}-failure.png`);
    } finally {
      fs.mkdirSync(path.dirname(this.config.resultPath), { recursive: true });
      fs.writeFileSync(this.config.resultPath, JSON.stringify({ ok, steps: this.steps }, null, 2));
    }
    return ok;
  }

  async screenshot(fileName) {
    if (!this.page) return;
    const target = path.join(this.config.artifacts, fileName);
    fs.mkdirSync(this.config.artifacts, { recursive: true });
    try {
      await this.page.screenshot({ path: target, timeout: 10_000 });
      process.stderr.write(`screenshot: ${target}\n`);
    } catch (error) {
      process.stderr.write(`screenshot failed: ${error}\n`);
    }
  }
}

/** Mirrors the browser console into a log file next to the screenshots (for debugging). */
function recordConsole(page, config, fileName) {
  fs.mkdirSync(config.artifacts, { recursive: true });
  const log = fs.createWriteStream(path.join(config.artifacts, fileName));
  page.on("console", (message) => log.write(`[${message.type()}] ${message.text()}\n`));
  page.on("pageerror", (error) => log.write(`[pageerror] ${error.stack || error}\n`));
  return log;
}

/**
 * The whole life of one scripted browser session: reads the config, opens a page, mirrors its
 * console into `consoleFile`, runs `body(page, config, steps)` as the named run (results file,
 * screenshot on failure), closes the browser, and exits the process: 0 passed, 1 failed, 2 broken.
 */
function runSession(name, consoleFile, body) {
  async function main() {
    const config = readConfig();
    const steps = new Steps(config);
    const browser = await launchBrowser(config);
    let consoleLog;
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      steps.page = page;
      consoleLog = recordConsole(page, config, consoleFile);
      return await steps.run(name, () => body(page, config, steps));
    } finally {
      consoleLog?.end();
      await browser.close();
    }
  }
  main().then(
    (ok) => process.exit(ok ? 0 : 1),
    (error) => {
      process.stderr.write(`${error.stack || error}\n`);
      process.exit(2);
    },
  );
}

module.exports = { readConfig, launchBrowser, recordConsole, runSession, Steps };
