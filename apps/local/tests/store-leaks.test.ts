import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";
import { clientOf, readAll, startRun } from "./support.js";

// Issue 11 finding 10: every Query that stopped at its Limit left its LevelDB iterator (and the
// snapshot it pins) open, so memory grew with every record written. Counted, not timed.
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.each([
  ["in memory", true],
  ["on disk", false],
])("the DynamoDB emulator closes its iterators (%s)", (_name, memory) => {
  let stack: LocalStack | undefined;
  afterAll(async () => {
    await stack?.close();
  });

  it("after runs that write and stream 100 records, no iterator is left open", async () => {
    const dataDir = memory ? undefined : mkdtempSync(join(tmpdir(), "stepstream-leak-"));
    if (dataDir) dirs.push(dataDir);
    stack = await startStack({
      memory,
      ...(dataDir ? { dataDir } : {}),
      port: 0,
      outputsFile: null,
      stepWaitMs: 0,
      streamer: { pageSize: 25 },
    });
    const client = clientOf(stack);
    for (let i = 0; i < 1; i++) {
      const run = await startRun(stack, { count: 100, concurrency: 10 });
      const { records } = await readAll(client, run.executionArn);
      expect(records.length).toBe(100);
      await stack.idle();
    }
    // Queries stopped at their Limit (the streamer's pages, the writers' rare head reads) happened by
    // the dozens; each closes its iterator when it answers (before the patch, each left one open).
    expect(stack.dynamoCounts.Query ?? 0).toBeGreaterThan(20);
    const deadline = Date.now() + 2000;
    while (stack.dynamoOpenIterators() > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(stack.dynamoOpenIterators()).toBe(0);
  });
});
