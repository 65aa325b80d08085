import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { type LocalStack, startStack } from "@stepstream/local";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

// The web view in a real browser (Debian's chromium driven by playwright-core; no browser download),
// served by the local stack's web front end, which signs the browser's requests server-side.

/** `chromium` or `chromium-browser` on PATH: the same lookup as `make test`'s `scripts/preflight.sh`. */
function chromiumOnPath(): string | undefined {
  for (const name of ["chromium", "chromium-browser"]) {
    for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {}
    }
  }
  return undefined;
}

export const CHROMIUM = process.env.STEPSTREAM_CHROMIUM || chromiumOnPath() || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SIMULATED = (i: number) => `This is simulated result ${i}`;

let stack: LocalStack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the browser test needs chromium; run: sudo apt-get install -y chromium (or set STEPSTREAM_CHROMIUM=/path/to/chromium). make test checks this first (scripts/preflight.sh).`,
    );
  }
  stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: null,
    web: true,
    stepWaitMs: 0,
    streamer: { pollIntervalMs: 20, maxPollIntervalMs: 100 },
  });
  if (!stack.webUrl)
    throw new Error("the web view is not built: apps/web/dist/server is missing (make build)");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

afterEach(async () => {
  await page?.context().close();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function openPage(viewport = { width: 1100, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  // Every Content-Security-Policy violation the page meets, as the browser reports it.
  await context.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
    );
  });
  page = await context.newPage();
  page.on("pageerror", (err) => {
    throw err;
  });
  await page.goto(stack.webUrl as string);
  return page;
}

async function startRun(
  p: Page,
  fields: { count?: number; stepDurationMs?: number; failAt?: number },
): Promise<void> {
  if (fields.count !== undefined) await p.getByLabel("Results", { exact: true }).fill(String(fields.count));
  if (fields.stepDurationMs !== undefined)
    await p.getByLabel("Step duration (ms)").fill(String(fields.stepDurationMs));
  if (fields.failAt !== undefined) await p.getByLabel("Fail at step").fill(String(fields.failAt));
  await p.getByRole("button", { name: "Start run" }).click();
}

const recordTexts = (p: Page) => p.getByTestId("record").locator(".record-result").allTextContents();
const recordOffsets = (p: Page) =>
  p.getByTestId("record").evaluateAll((els) => els.map((e) => e.getAttribute("data-offset") ?? ""));
const status = (p: Page) => p.getByTestId("status").textContent();

/** Samples the number of records shown until the status is terminal: the counts seen, in order. */
async function watchCounts(p: Page, timeoutMs = 30_000): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const n = await p.getByTestId("record").count();
    if (seen.at(-1) !== n) seen.push(n);
    const s = await status(p);
    if (s === "succeeded" || s === "failed" || s === "timed out") {
      const last = await p.getByTestId("record").count();
      if (seen.at(-1) !== last) seen.push(last);
      return seen;
    }
    await p.waitForTimeout(25);
  }
  throw new Error(`no terminal status within ${timeoutMs} ms (saw counts ${seen.join(",")})`);
}

describe("the web view", () => {
  it("starts a run from the form and shows its 5 records one by one, then the terminal status", async () => {
    // Prepare
    const p = await openPage();
    const streamRequests: string[] = [];
    p.on("request", (r) => {
      if (r.url().includes("/api/stream")) streamRequests.push(r.url());
    });

    // Act
    await startRun(p, { count: 5, stepDurationMs: 400 });
    const counts = await watchCounts(p);

    // Assess: each record appeared on its own, in order, and nothing but the page's origin was called.
    expect(counts.filter((n) => n > 0)).toEqual([1, 2, 3, 4, 5]);
    expect(await status(p)).toBe("succeeded");
    expect(await recordTexts(p)).toEqual([0, 1, 2, 3, 4].map(SIMULATED));
    expect(await p.getByTestId("progress").getAttribute("aria-valuenow")).toBe("5");
    expect(await p.getByTestId("progress-count").textContent()).toBe("5 / 5 results");
    const url = new URL(p.url());
    expect(url.searchParams.get("execution")).toMatch(/^arn:aws:states:/);
    expect(url.searchParams.get("offset")).toMatch(/^\d{16}$/);
    expect(streamRequests.length).toBeGreaterThan(0);
    for (const r of streamRequests) expect(r.startsWith(stack.webUrl as string)).toBe(true);
    // No credential in the page: the access key is nowhere in what the browser holds.
    const html = await p.content();
    const storage = await p.evaluate(() => JSON.stringify(window.localStorage));
    expect(html + storage).not.toContain(stack.credentials?.accessKeyId);
  });

  it("resumes after a reload mid-run from the offset in the URL, without duplicates", async () => {
    const p = await openPage();
    await startRun(p, { count: 5, stepDurationMs: 700 });
    await p.getByTestId("record").nth(1).waitFor({ timeout: 20_000 });
    const offsetBefore = new URL(p.url()).searchParams.get("offset") as string;
    expect(offsetBefore).toMatch(/^\d{16}$/);
    const resumedFrom: string[] = [];
    p.on("request", (r) => {
      if (r.url().includes("/api/stream"))
        resumedFrom.push(new URL(r.url()).searchParams.get("offset") ?? "");
    });

    // Act: reload while the run is still going.
    await p.reload();
    const shownAfterReload = await p.getByTestId("record").count();
    const counts = await watchCounts(p);

    // Assess: the records read before the reload are back at once, the stream resumed after the
    // URL's offset (not from the start), and every record is shown exactly once, in order.
    expect(await status(p)).toBe("succeeded");
    expect(shownAfterReload).toBeGreaterThanOrEqual(2);
    expect(counts.at(-1)).toBe(5);
    expect(resumedFrom[0]).not.toBe("-1");
    expect((resumedFrom[0] ?? "") >= offsetBefore).toBe(true);
    expect(await recordTexts(p)).toEqual([0, 1, 2, 3, 4].map(SIMULATED));
    const offsets = await recordOffsets(p);
    expect(new Set(offsets).size).toBe(5);
  });

  it("shows a failing run's error and its status", async () => {
    const p = await openPage();

    await startRun(p, { count: 5, failAt: 2 });
    await watchCounts(p);

    expect(await status(p)).toBe("failed");
    expect(await recordTexts(p)).toEqual([SIMULATED(0), SIMULATED(1)]);
    const error = await p.getByTestId("error").textContent();
    expect(error).toContain("SimulatedStepFailure");
    expect(error).toContain("failAt=2");
  });

  it("refuses bad input with the API's message, and lists recent runs whose full results reopen", async () => {
    const p = await openPage();
    await startRun(p, { count: 2 });
    await watchCounts(p);
    const finished = new URL(p.url()).searchParams.get("execution") as string;

    await startRun(p, { count: 3, failAt: 3 });
    await expect.poll(() => p.getByRole("alert").textContent()).toContain("failAt must be below count");

    await startRun(p, { count: 1, failAt: 0 });
    await watchCounts(p);
    const items = p.getByRole("region", { name: "Recent executions" }).getByRole("button");
    expect(await items.count()).toBeGreaterThanOrEqual(2);
    await items.filter({ hasText: finished.split(":").pop() as string }).click();
    await watchCounts(p);

    expect(new URL(p.url()).searchParams.get("execution")).toBe(finished);
    expect(await status(p)).toBe("succeeded");
    expect(await recordTexts(p)).toEqual([SIMULATED(0), SIMULATED(1)]);
  });

  it("fits a phone-sized screen", async () => {
    const p = await openPage({ width: 375, height: 740 });

    await startRun(p, { count: 3 });
    await watchCounts(p);

    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const button = await p.getByRole("button", { name: "Start run" }).boundingBox();
    expect(button?.width).toBeGreaterThan(300);
  });
});

const cspViolations = (p: Page) =>
  p.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
const recentArns = (p: Page) =>
  p.evaluate(() =>
    (
      JSON.parse(window.localStorage.getItem("stepstream.recent.v1") ?? "[]") as { executionArn: string }[]
    ).map((e) => e.executionArn),
  );

describe("the web view's small promises", () => {
  it("does not trip its own Content-Security-Policy on load or during a run", async () => {
    const p = await openPage();
    await startRun(p, { count: 2 });
    await watchCounts(p);
    await p.reload();
    await p.getByTestId("record").nth(1).waitFor();

    expect(await cspViolations(p)).toEqual([]);
  });

  it("measures 'ended after' from the execution's start, not from when the page began reading", async () => {
    const p = await openPage();
    await startRun(p, { count: 3, stepDurationMs: 300 });
    await watchCounts(p);
    const first = await p.getByTestId("ended").textContent();
    expect(first).toMatch(/ended \d+\.\d s after it started/);
    const seconds = Number(/ended (\d+\.\d) s/.exec(first ?? "")?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(0.8); // 3 steps of 300 ms

    // Reopen it long after it ended: the figure is the same, because it is the run's, not the page's.
    await p.waitForTimeout(1500);
    await p.getByRole("region", { name: "Recent executions" }).getByRole("button").first().click();
    await watchCounts(p);
    expect(await p.getByTestId("ended").textContent()).toBe(first);
  });

  it("drops a bad ARN from its recent list and says the stream cannot be read", async () => {
    const p = await openPage();
    await startRun(p, { count: 1 });
    await watchCounts(p);
    const good = new URL(p.url()).searchParams.get("execution") as string;

    await p.goto(`${stack.webUrl}?execution=not-an-arn`);
    await expect.poll(() => status(p)).toBe("stream error");

    expect(await p.getByTestId("error").textContent()).toContain("not a Step Functions execution ARN");
    expect(await recentArns(p)).toEqual([good]);
    await p.reload();
    await expect.poll(() => status(p)).toBe("stream error");
    expect(await recentArns(p)).toEqual([good]);
  });

  it("says at once that an execution does not exist, instead of connecting… forever", async () => {
    const p = await openPage();
    const unknown = `${stack.stateMachineArn.replace(":stateMachine:", ":express:")}:no-such-run:0`;

    await p.goto(`${stack.webUrl}?execution=${encodeURIComponent(unknown)}`);

    // The stream URL answers 404 for an execution it does not know (Durable Streams §5.7/§5.8).
    await expect.poll(() => status(p), { timeout: 10_000 }).toBe("stream error");
    expect(await p.getByTestId("error").textContent()).toMatch(/not ?found/i);
  });
});
