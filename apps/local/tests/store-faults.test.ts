import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";
import { readLines, signedFetch, startRun } from "./support.js";

// Issue 11 finding 9: a full disk (LevelDB's LEVEL_IO_ERROR on write) must not kill the stack.
// The fault is injected at the LevelDB layer dynalite writes through (classic-level's _put/_batch).
type Proto = Record<"_put" | "_batch", (...a: unknown[]) => Promise<unknown>>;
const fromDynalite = createRequire(createRequire(import.meta.url).resolve("dynalite"));
const { Level } = fromDynalite("level") as { Level: { prototype: object } };
const proto = Level.prototype as Proto;
const original = { _put: proto._put, _batch: proto._batch };
let diskFull = false;
const ioError = () =>
  Object.assign(new Error("IO error: 000003.log: No space left on device"), { code: "LEVEL_IO_ERROR" });

let stack: LocalStack;
let dataDir: string;
beforeAll(async () => {
  proto._put = function (...a) {
    return diskFull ? Promise.reject(ioError()) : original._put.apply(this, a);
  };
  proto._batch = function (...a) {
    return diskFull ? Promise.reject(ioError()) : original._batch.apply(this, a);
  };
  dataDir = mkdtempSync(join(tmpdir(), "stepstream-full-"));
  stack = await startStack({ dataDir, port: 0, outputsFile: null, stepWaitMs: 0 });
});
afterAll(async () => {
  await stack?.close();
  Object.assign(proto, original);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("a full disk", () => {
  it("fails the writes it must, keeps the stack up, still serves stored runs, and recovers when space returns", async () => {
    // Prepare: a stored run.
    const stored = await startRun(stack, { count: 5 });
    await stack.idle();
    expect(await readLines(stack, stored.completeLambdaResultURL)).toHaveLength(5);
    // Act: the disk fills; a run is started and its writes fail.
    diskFull = true;
    const writesBefore = stack.dynamoCounts.TransactWriteItems ?? 0;
    const failing = await startRun(stack, { count: 3 });
    // Its writes now fail and are retried (putResult retries a 500 for up to a minute, as AWS
    // advises for InternalServerError): wait until the store has refused some, not for the run.
    const until = Date.now() + 30_000;
    while ((stack.dynamoCounts.TransactWriteItems ?? 0) < writesBefore + 3 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    // Assess: the process is alive, the stored run is still served in full, starts are refused.
    expect(await readLines(stack, stored.completeLambdaResultURL)).toHaveLength(5);
    const refused = await signedFetch(stack, stack.apiEndpoint, {
      method: "POST",
      body: JSON.stringify({ count: 1 }),
      headers: { "content-type": "application/json" },
    });
    expect(refused.status).toBe(503);
    const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("Unavailable");
    expect(error.message).toContain(dataDir);
    // Space returns: a new run completes.
    diskFull = false;
    // The run that was failing finishes once the store writes again: nothing it wrote is lost.
    await stack.idle();
    expect(await readLines(stack, failing.completeLambdaResultURL)).toHaveLength(3);
    const after = await startRun(stack, { count: 3 });
    await stack.idle();
    expect(await readLines(stack, after.completeLambdaResultURL)).toHaveLength(3);
  });
});
