"use strict";
// Opens code-server's workbench with the smoke-test driver's payload so that VS Code runs
// exthost_suite.js in the extension host (what @vscode/test-electron does on a desktop), and waits
// for the exit code the workbench hands to `codeAutomationExit` when the suite settles.

const { runSession } = require("./browser.js");

const SUITE_MS = 150_000;

async function checkSuite(page, config, steps) {
  const exitCode = await steps.step("suite exit code", () => runSuite(page, config));
  if (exitCode !== 0) throw new Error(`the extension-host suite exited with ${exitCode}`);
}

async function runSuite(page, config) {
  let reportExit;
  const exited = new Promise((resolve) => {
    reportExit = resolve;
  });
  await page.exposeFunction("codeAutomationExit", (code) => reportExit(code));
  await page.goto(config.url, { timeout: 60_000 });
  let timer;
  const timeout = new Promise((_, reject) => {
    const expire = () => reject(new Error(`no exit code within ${SUITE_MS / 1000} s`));
    timer = setTimeout(expire, SUITE_MS);
  });
  try {
    return await Promise.race([exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

runSession("exthost", "exthost-console.log", checkSuite);
