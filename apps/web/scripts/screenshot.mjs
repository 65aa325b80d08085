#!/usr/bin/env node
// Takes docs/web-view.png: the web view mid-run (progress, live records) with a failed run in the
// recent list, in Debian's chromium driven by playwright-core. Needs `make build` first.
//   node apps/web/scripts/screenshot.mjs [out.png]
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const out = resolve(process.argv[2] ?? join(root, "docs/web-view.png"));
const executablePath = process.env.STEPSTREAM_CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`${executablePath} is missing: apt-get install chromium`);
  process.exit(1);
}
const { startStack } = await import(pathToFileURL(join(root, "apps/local/dist/index.js")).href);
const stack = await startStack({ memory: true, port: 0, outputsFile: null, web: true, stepWaitMs: 0 });
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 880, height: 1000 }, colorScheme: "light" });
  await page.goto(stack.webUrl);
  const run = async (fields) => {
    for (const [label, value] of Object.entries(fields))
      await page.getByLabel(label, { exact: true }).fill(String(value));
    await page.getByRole("button", { name: "Start run" }).click();
  };
  await run({ Results: 5, "Step duration (ms)": 0, "Fail at step": 3 });
  await page.getByTestId("status").filter({ hasText: "failed" }).waitFor();
  await run({ Results: 8, Concurrency: 1, "Step duration (ms)": 600, "Fail at step": "" });
  await page.getByTestId("record").nth(4).waitFor({ timeout: 20_000 });
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await stack.close();
}
