import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ResultRecord } from "@stepstream/results-schema";
import { putResult, putResults } from "@stepstream/steps";
import { DynamoResultReader, follow } from "@stepstream/streamer";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";

// The write path's guarantee, checked as a property over the DynamoDB wire protocol: with any number
// of concurrent writers, duplicated keys (retries, twice-delivered executions) and random delays,
// (1) every key is stored exactly once, (2) sequence numbers are dense, (3) a reader that follows the
// log while it is being written delivers every record exactly once, in order, never finding a record
// below one it has delivered. Writers append one record (`putResult`) or an ordered pair
// (`putResults`). The same property run against a writer with a planted bug must fail: that is
// what shows the property can find one.

let stack: LocalStack;
let ddb: DynamoDBClient;
const mutants: DynamoDBClient[] = [];
beforeAll(async () => {
  stack = await startStack({ memory: true, port: 0, outputsFile: null, auth: false });
  ddb = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
});
afterAll(async () => {
  ddb?.destroy();
  for (const m of mutants) m.destroy();
  await stack?.close();
});

type Actions = { Put?: { Item?: Record<string, { S?: string }>; ConditionExpression?: string } }[];
/**
 * A client that plants a bug in the writer's requests (the shipped code stays as it is): it drops
 * the key items (so nothing enforces one record per key) or the record slot's condition (so a slot can
 * be overwritten).
 */
function mutant(bug: "no-key-item" | "no-slot-condition"): DynamoDBClient {
  const client = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { TransactItems?: Actions };
      if (input.TransactItems) {
        const isKeyItem = (a: Actions[number]) => a.Put?.Item?.ExecutionArn?.S?.startsWith("key#") === true;
        input.TransactItems =
          bug === "no-key-item"
            ? input.TransactItems.filter((a) => !isKeyItem(a))
            : input.TransactItems.map((a) =>
                isKeyItem(a) || !a.Put ? a : { Put: { ...a.Put, ConditionExpression: undefined } },
              );
        if (bug === "no-slot-condition") {
          for (const a of input.TransactItems) {
            if (a.Put && !a.Put.ConditionExpression)
              delete (a.Put as { ExpressionAttributeNames?: unknown }).ExpressionAttributeNames;
          }
        }
      }
      return next(args);
    },
    { step: "initialize", name: "plantBug" },
  );
  mutants.push(client);
  return client;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let run = 0;

function writersRace(client: DynamoDBClient) {
  const config = { tableName: stack.tableName, resultTtlDays: 1, client };
  const reader = new DynamoResultReader(ddb, stack.tableName);
  return fc.asyncProperty(
    fc.integer({ min: 1, max: 8 }), // distinct keys
    // writes: (key, delay ms, a pair appended with putResults?)
    fc.array(fc.tuple(fc.nat(7), fc.nat(6), fc.boolean()), { minLength: 1, maxLength: 16 }),
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
      const attempts: { key: string; offset: string; duplicate: boolean }[][] = await Promise.all(
        writes.map(async ([k, delay, pair]) => {
          await sleep(delay);
          const ks = pair ? [keyOf(k), keyOf(k + 1)] : [keyOf(k)];
          const outs = pair
            ? await putResults(
                ks.map((key) => ({ executionArn, recordKey: key, result: key })),
                config,
              )
            : [await putResult({ executionArn, recordKey: ks[0] as string, result: ks[0] }, config)];
          return outs.map((o, i) => ({ key: ks[i] as string, ...o }));
        }),
      );
      const outcomes = attempts.flat();
      const distinct = new Set(outcomes.map((o) => o.key));
      // All writers of one key agree on its offset; exactly one of them wrote.
      const byKey = new Map<string, string>();
      for (const o of outcomes) {
        const prev = byKey.get(o.key);
        if (prev !== undefined) expect(o.offset).toBe(prev);
        byKey.set(o.key, o.offset);
      }
      expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(distinct.size);
      // A pair's two records are in its order.
      for (const pair of attempts) {
        if (pair.length === 2 && pair[0]?.key !== pair[1]?.key) {
          expect(Number(pair[0]?.offset)).not.toBe(Number(pair[1]?.offset));
        }
      }
      // The reader catches up with everything, then stops.
      const deadline = Date.now() + 2000;
      while (delivered.length < distinct.size && Date.now() < deadline) await sleep(2);
      ac.abort();
      await reading;
      expect(delivered.map((r) => Number(r.Offset))).toEqual([...Array(distinct.size).keys()]);
      expect(new Set(delivered.map((r) => r.RecordKey)).size).toBe(distinct.size);
      for (const r of delivered) expect(r.Result).toBe(r.RecordKey);
    },
  );
}

it("concurrent writers: each key once, dense offsets, every reader gets everything in order (200 seeded runs)", async () => {
  await fc.assert(writersRace(ddb), { numRuns: 200, seed: 20261126, endOnFailure: true });
});

it.each(["no-key-item", "no-slot-condition"] as const)(
  "the property finds a planted bug (%s) within 200 runs",
  async (bug) => {
    const found = await fc
      .assert(writersRace(mutant(bug)), { numRuns: 200, seed: 20261126, endOnFailure: true })
      .then(
        () => false,
        () => true,
      );
    expect(found).toBe(true);
  },
);
