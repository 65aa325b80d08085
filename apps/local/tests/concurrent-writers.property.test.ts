import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ResultRecord } from "@stepstream/results-schema";
import { putResult } from "@stepstream/steps";
import { DynamoResultReader, follow } from "@stepstream/streamer";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";

// The write path's guarantee, checked as a property over the DynamoDB wire protocol: with any number
// of concurrent writers, duplicated keys (retries, twice-delivered executions) and random delays,
// (1) every key is stored exactly once, (2) sequence numbers are dense, (3) a reader that follows the
// log while it is being written delivers every record exactly once, in order, never finding a record
// below one it has delivered.

let stack: LocalStack;
let ddb: DynamoDBClient;
beforeAll(async () => {
  stack = await startStack({ memory: true, port: 0, outputsFile: null, auth: false });
  ddb = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
});
afterAll(async () => {
  ddb?.destroy();
  await stack?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let run = 0;

it("concurrent writers: each key once, dense offsets, every reader gets everything in order (200 seeded runs)", async () => {
  const config = { tableName: stack.tableName, resultTtlDays: 1, client: ddb };
  const reader = new DynamoResultReader(ddb, stack.tableName);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 8 }), // distinct keys
      fc.array(fc.tuple(fc.nat(7), fc.nat(6)), { minLength: 1, maxLength: 16 }), // writes: (key, delay ms)
      async (keys, writes) => {
        const executionArn = `arn:aws:states:us-east-1:000000000000:express:stepstream-local:prop-${run++}:0`;
        const keyOf = (k: number) => `k${k % keys}`;
        // A reader follows the log from the start while the writers race.
        const delivered: ResultRecord[] = [];
        const ac = new AbortController();
        const reading = (async () => {
          for await (const ev of follow({
            reader,
            executionArn,
            afterSeq: -1,
            pageSize: 3,
            pollIntervalMs: 1,
            maxPollIntervalMs: 2,
            stopAt: Date.now() + 30_000,
            idleTimeoutMs: 30_000,
            signal: ac.signal,
          })) {
            if (ev.kind === "records") delivered.push(...ev.records);
          }
        })();
        const outcomes = await Promise.all(
          writes.map(async ([k, delay]) => {
            await sleep(delay);
            return putResult({ executionArn, recordKey: keyOf(k), result: keyOf(k) }, config);
          }),
        );
        const distinct = new Set(writes.map(([k]) => keyOf(k)));
        // All writers of one key agree on its offset; exactly one of them wrote.
        const byKey = new Map<string, string>();
        for (const [i, [k]] of writes.entries()) {
          const o = outcomes[i];
          if (!o) throw new Error("missing outcome");
          const prev = byKey.get(keyOf(k));
          if (prev !== undefined) expect(o.offset).toBe(prev);
          byKey.set(keyOf(k), o.offset);
        }
        expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(distinct.size);
        // The reader catches up with everything, then stops.
        const deadline = Date.now() + 5000;
        while (delivered.length < distinct.size && Date.now() < deadline) await sleep(2);
        ac.abort();
        await reading;
        expect(delivered.map((r) => Number(r.Offset))).toEqual([...Array(distinct.size).keys()]);
        expect(new Set(delivered.map((r) => r.RecordKey)).size).toBe(distinct.size);
        for (const r of delivered) expect(r.Result).toBe(r.RecordKey);
      },
    ),
    { numRuns: 200, seed: 20261126, endOnFailure: true },
  );
});
