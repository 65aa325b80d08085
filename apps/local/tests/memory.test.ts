import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { putResults } from "@stepstream/steps";
import { afterAll, describe, expect, it } from "vitest";
import { MiB, type StackProcess, startStackProcess } from "./stack-process.js";

// Issue 11 findings 8 and 10, measured on the stack's own process (a child: tests/stack-process.ts),
// not the test runner's. Records are written with putResults against the stack's DynamoDB (the
// fast way to write 1,000-record executions: 20 transactions instead of 1,000 step invocations);
// the stack's streamer reads them.
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const log = (...a: unknown[]) => console.log("[memory]", ...a);
const mib = (b: number) => Math.round((b / MiB) * 10) / 10;

/** `count` records of `resultBytes` each (the last one final), as one producer appends them. */
function records(executionArn: string, count: number, resultBytes = 0) {
  const pad = "x".repeat(resultBytes);
  return Array.from({ length: count }, (_, i) => ({
    executionArn,
    recordKey: `step-${i}`,
    type: i === count - 1 ? ("final" as const) : ("result" as const),
    result: resultBytes ? { i, pad } : `This is simulated result ${i}`,
  }));
}

/** GETs an execution's stream (the sample's mode: until its terminal record) and counts its lines. */
async function readLines(stack: StackProcess, executionArn: string): Promise<number> {
  const res = await fetch(`${stack.streamUrl}?executionArn=${encodeURIComponent(executionArn)}`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${text}`);
  return text.split("\n").filter((l) => l.trim()).length;
}

describe("the local stack's memory", () => {
  let stack: StackProcess | undefined;
  afterAll(async () => {
    await stack?.close();
  });

  it("stays flat across 16 back-to-back 1,000-record runs on disk (each watched live by a reader)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stepstream-memory-"));
    dirs.push(dataDir);
    stack = await startStackProcess({ dataDir });
    const s = stack;
    const config = { tableName: s.tableName, resultTtlDays: 1, client: s.dynamo() };
    const rss: number[] = [];
    const started = Date.now();
    for (let run = 0; run < 16; run++) {
      const arn = s.newExecutionArn();
      // A live reader from the start (it polls while the run writes), then the 1,000 records.
      await putResults(
        records(arn, 1).map((r) => ({ ...r, type: "result" as const, recordKey: "first" })),
        config,
      );
      const live = readLines(s, arn);
      await putResults(records(arn, 999), config);
      expect(await live).toBe(1000);
      rss.push((await s.memory()).rss);
    }
    const m = await s.memory();
    log(
      "16 x 1,000 records on disk:",
      `${Date.now() - started} ms;`,
      "RSS MiB per run",
      rss.map(mib).join(" "),
    );
    expect(m.openIterators).toBe(0);
    // Before the iterator fix: +29 MiB per run, linear (114 -> 579 MiB over 16 runs). Now flat: after
    // the first runs warm the store up, twelve more runs may add at most 40 MiB in all.
    expect(rss[15] as number).toBeLessThan((rss[3] as number) + 40 * MiB);
  });

  it("50 readers that never read a live 1,000-record run hold the stack's memory within a bound, returned when they close", async () => {
    await stack?.close();
    stack = await startStackProcess({ memory: true });
    const s = stack;
    const config = { tableName: s.tableName, resultTtlDays: 1, client: s.dynamo() };
    const arn = s.newExecutionArn();
    // 8 KB records: an 8 MB run, so that no response fits in the loopback socket buffers (the whole
    // 350 KB of a simulated 1,000-record run would: then back-pressure never has to act).
    const RECORD_BYTES = 8192;
    const READERS = 50;
    await putResults([{ executionArn: arn, recordKey: "first", result: "first" }], config);
    const before = await s.memory();
    // Prepare: 50 readers connect and never read (their sockets stay paused: TCP back-pressure).
    const url = new URL(`${s.streamUrl}?executionArn=${encodeURIComponent(arn)}`);
    const readers = await Promise.all(
      Array.from(
        { length: READERS },
        () =>
          new Promise<{ destroy(): void; status: number | undefined }>((ok, fail) => {
            const req = request(url, { agent: false }, (res) => {
              res.pause();
              ok({ status: res.statusCode, destroy: () => req.destroy() });
            });
            req.on("error", fail);
            req.end();
          }),
      ),
    );
    expect(readers.map((r) => r.status)).toEqual(Array(READERS).fill(200));
    // Act: the run writes its other 999 records (the last one final) while they are connected.
    await putResults(records(arn, 999, RECORD_BYTES), config);
    await new Promise((r) => setTimeout(r, 1000));
    const during = await s.memory();
    for (const r of readers) r.destroy();
    // Lambda tells the invocations nothing: each runs on (its writes dropped) to the final record.
    const until = Date.now() + 60_000;
    let after = await s.memory();
    while (after.running > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      after = await s.memory();
    }
    const js = (m: typeof before) => m.heapUsed + m.external;
    log(
      `${READERS} paused readers of a live 1,000 x ${RECORD_BYTES} B run, MiB: RSS before ${mib(before.rss)}, during ${mib(during.rss)}, after ${mib(after.rss)};`,
      `heap+external before ${mib(js(before))}, during ${mib(js(during))}, after ${mib(js(after))}`,
    );
    // Assess: the invocations wait in write() (each holding its page of records, at most 1 MB as
    // DynamoDB pages), they do not buffer the run. Measured (load 5): RSS +108 to +130 MiB,
    // heap+external +55 to +80 MiB; without back-pressure (res.write's answer ignored) every
    // response was buffered whole: all 50 invocations had finished, RSS +302 MiB, heap+external +240.
    expect(during.running).toBe(READERS);
    expect(during.rss - before.rss).toBeLessThan(192 * MiB);
    expect(js(during) - js(before)).toBeLessThan(128 * MiB);
    // Returned once they close: what is left is the stored run (8 MB in the in-memory store).
    expect(after.running).toBe(0);
    expect(js(after) - js(before)).toBeLessThan(48 * MiB);
    expect(after.rss).toBeLessThanOrEqual(during.rss + 16 * MiB);
  });
});
