import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ResultRecord } from "@stepstream/results-schema";
import { HeadMemory, putResult, putResults } from "@stepstream/steps";
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

type Av = { S?: string; N?: string };
type Actions = {
  Put?: { Item?: Record<string, Av>; ConditionExpression?: string };
  Delete?: { Key?: Record<string, Av> };
}[];
type Bug = "no-key-item" | "no-slot-condition" | "combine-no-key-condition" | "combine-reversed";
/**
 * A client that plants a bug in the writer's requests (the shipped code stays as it is): it drops
 * the key items (so nothing enforces one record per key) or the record slot's condition (so a slot can
 * be overwritten); or, in combining transactions only (those that delete staged items), drops the key
 * items' condition (so a staged record whose key another writer wrote is appended again) or appends
 * the staged records in reverse order (so one producer's records lose their order).
 */
function mutant(bug: Bug): DynamoDBClient {
  const client = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { TransactItems?: Actions };
      const combining = input.TransactItems?.some((a) =>
        a.Delete?.Key?.ExecutionArn?.S?.startsWith("stage#"),
      );
      // Writers that race for one slot at nearly the same moment collide (a transaction conflict) and
      // stage instead; a little jitter lets this plant's overwrites happen one after the other.
      if (input.TransactItems && bug === "no-slot-condition") await sleep(Math.random() * 8);
      if (input.TransactItems && bug.startsWith("combine-")) {
        if (combining) plantInCombine(bug, input.TransactItems);
      } else if (input.TransactItems) {
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

function plantInCombine(bug: Bug, actions: Actions): void {
  const isKeyItem = (a: Actions[number]) => a.Put?.Item?.ExecutionArn?.S?.startsWith("key#") === true;
  const isRecord = (a: Actions[number]) => a.Put?.Item?.ExecutionArn?.S?.startsWith("arn:") === true;
  if (bug === "combine-no-key-condition") {
    for (const a of actions) {
      if (isKeyItem(a) && a.Put) {
        delete a.Put.ConditionExpression;
        delete (a.Put as { ExpressionAttributeNames?: unknown }).ExpressionAttributeNames;
      }
    }
    return;
  }
  // combine-reversed: the same slots and key items, handed out newest first.
  const records = actions.filter(isRecord);
  const keys = actions.filter(isKeyItem);
  const slots = records.map((a) => a.Put?.Item?.Seq as Av).reverse();
  records.forEach((a, i) => {
    (a.Put?.Item as Record<string, Av>).Seq = slots[i] as Av;
  });
  keys.forEach((a, i) => {
    (a.Put?.Item as Record<string, Av>).RecordSeq = slots[i] as Av;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let run = 0;

function writersRace(client: DynamoDBClient) {
  // A planted bug can make a writer wait for what never comes: bound every append to a few seconds.
  const shared = { tableName: stack.tableName, resultTtlDays: 1, client, retryForMs: 3000 };
  // Half the writers run as if each were its own Lambda container (a head memory of its own, so
  // they lose races and stage and combine); the others share the process's memory.
  const configFor = (w: number) => (w % 2 ? { ...shared, headMemory: new HeadMemory() } : shared);
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
        writes.map(async ([k, delay, pair], w) => {
          const config = configFor(w);
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
      // A pair's two records, both written by its call, are in its order.
      for (const pair of attempts) {
        if (
          pair.length === 2 &&
          pair[0]?.key !== pair[1]?.key &&
          !pair[0]?.duplicate &&
          !pair[1]?.duplicate
        ) {
          expect(Number(pair[0]?.offset)).toBeLessThan(Number(pair[1]?.offset));
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

it.each(["no-key-item", "no-slot-condition", "combine-no-key-condition", "combine-reversed"] as const)(
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
