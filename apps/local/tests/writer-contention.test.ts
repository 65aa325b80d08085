import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ResultRecord } from "@stepstream/client";
import { encodeOffset, TABLE_SCHEMA } from "@stepstream/results-schema";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";
import { expectedResults, partitionItems, readLines, startRun } from "./support.js";

// Issue 13: 40 concurrent writers into one execution, every execution delivered twice (Express is
// at-least-once: this stack runs each one twice, concurrently, with the same ARN, so 80 writers race
// for one log), runs of the input {"count":1000,"concurrency":40} in a row: no run may fail,
// and each stream, read through the real streamer, holds every record once, in order (1000 records:
// 999 results and the final one), then the table holds the same and nothing is left staged. The
// writers lose races, stage and combine (packages/steps/src/combine.ts).
//
// The issue asks for 20 runs, and `make test` runs 20 (measured: 20 of 20 passed, 12 min on this
// 2-core machine at load 3-8, 25-53 s per run; CI allows 90 min). `STEPSTREAM_CONTENTION_RUNS=N` runs
// fewer while working on something else. Where a run's time goes (load 4-5): one delivery (40 writers) 22 s, two (80 writers) 38 s,
// two with the emulator in a process of its own 32 s; the writer alone (the writer bench, 40
// writers with a head memory each) takes ~15 s per 1000 records. So it is mostly the contended
// appends (each Map iteration has one record in flight, and a staged record waits for a combiner),
// not the workflow; fewer records per run would not test what failed before (runs ending after
// ~800 records when appends ran out of retries).
// STEPSTREAM_CONTENTION_COUNT changes the count (for a quick look by hand).

const COUNT = Number(process.env.STEPSTREAM_CONTENTION_COUNT ?? 1000);
const RUNS = Number(process.env.STEPSTREAM_CONTENTION_RUNS ?? 20);

let stack: LocalStack;
let ddb: DynamoDBClient;
beforeAll(async () => {
  stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: null,
    stepWaitMs: 0,
    duplicateExecutions: true,
  });
  ddb = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
});
afterAll(async () => {
  ddb?.destroy();
  await stack?.close();
});

it(`${RUNS} runs of {"count":${COUNT},"concurrency":40} delivered twice: 0 failed, 0 lost, 0 duplicated, in order`, async () => {
  const failures: string[] = [];
  const started = Date.now();
  for (let run = 0; run < RUNS; run++) {
    const t = Date.now();
    const wf = await startRun(stack, { count: COUNT, concurrency: 40, stepWaitSeconds: 0 });
    const lines = (await readLines(stack, wf.completeLambdaResultURL)) as ResultRecord[];
    const last = lines.at(-1);
    console.log(`run ${run}: ${lines.length} records in ${Date.now() - t} ms`);
    if (last?.Type !== "final" || lines.length !== COUNT) {
      failures.push(`run ${run}: ${lines.length} lines, ended with ${JSON.stringify(last).slice(0, 400)}`);
      continue;
    }
    // The stream: dense offsets, each key once, every step's result, the terminal record last.
    expect(lines.map((l) => l.Offset)).toEqual([...Array(COUNT).keys()].map(encodeOffset));
    expect(new Set(lines.map((l) => l.RecordKey)).size).toBe(COUNT);
    expect([...lines.map((l) => l.Result)].sort()).toEqual(expectedResults(COUNT).sort());
    // The table: the same records, nothing after the terminal one; nothing left staged.
    await stack.idle();
    const stored = await partitionItems(stack, ddb, wf.executionArn);
    expect(stored).toHaveLength(COUNT);
    expect(stored.filter((x) => x.Type?.S !== "result")).toHaveLength(1);
    const staged = await partitionItems(stack, ddb, `${TABLE_SCHEMA.stagePrefix}${wf.executionArn}`);
    expect(staged.filter((x) => x[TABLE_SCHEMA.sortKey]?.N !== "0")).toEqual([]);
  }
  await stack.idle();
  expect(failures).toEqual([]);
  console.log(
    `${RUNS} runs of ${COUNT} records, concurrency 40, delivered twice: ${Date.now() - started} ms`,
  );
}, 3_600_000);
