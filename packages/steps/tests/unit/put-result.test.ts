import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from "@aws-sdk/client-dynamodb";
import { MAX_ITEM_BYTES, StepstreamError } from "@stepstream/results-schema";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { forgetRememberedHeads, putResult, putResults } from "../../src/put-result.js";

// putResult validates everything before it sends a single request: a record that is not JSON, not
// storable by DynamoDB or over its 400 KB item limit is refused with a clear error and the table is
// never touched (the mock sees no command at all).

const ARN = "arn:aws:states:us-east-1:123456789012:express:stepstream:run-1:0f8e2b7c";
const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: "us-east-1" });
const config = { tableName: "results", resultTtlDays: 7, client };

beforeEach(() => {
  ddb.reset();
  // Empty log: no head, no record with the key.
  forgetRememberedHeads();
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(TransactWriteItemsCommand).resolves({});
});

async function refusal(p: Promise<unknown>): Promise<StepstreamError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StepstreamError);
  return err as StepstreamError;
}

class Thumbnail {
  constructor(readonly url: string) {}
}

describe("putResult refuses what cannot be a record, before anything is written", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const deep = (n: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < n; i++) v = { x: v };
    return v;
  };
  // biome-ignore lint/suspicious/noSparseArray: a sparse array is what is being refused.
  const sparse = [1, , 3];
  const cases: [string, unknown, RegExp][] = [
    ["a function", () => 1, /Result is a function/],
    ["a function inside an object", { ok: true, run: () => 1 }, /Result\.run is a function/],
    ["a symbol", Symbol("s"), /Result is a symbol/],
    ["a bigint", 10n, /Result is a bigint/],
    ["undefined inside an array", [1, undefined], /Result\[1\] is a undefined/],
    ["NaN", Number.NaN, /Result is NaN/],
    ["Infinity", { n: Number.POSITIVE_INFINITY }, /Result\.n is Infinity/],
    ["a cycle", cyclic, /cycle/],
    ["a Date", new Date(0), /Result is a Date object/],
    ["a Map", new Map([["a", 1]]), /Result is a Map object/],
    ["a class instance", new Thumbnail("s3://b/k"), /Result is a Thumbnail object/],
    ["a sparse array", sparse, /Result\[1\] is a hole in a sparse array/],
    ["an integer beyond 2^53", { n: 2 ** 60 }, /Result\.n is 1152921504606847000, beyond the integers/],
    ["a number too large for DynamoDB", { n: 1e200 }, /beyond the integers/],
    ["a number too small for DynamoDB", [1e-200], /Result\[0\] is 1e-200, smaller than DynamoDB can store/],
    ["nesting deeper than 32 levels", deep(33), /nested more than 32 levels/],
    ["nesting 100 000 levels deep (no stack overflow)", deep(100_000), /nested more than 32 levels/],
  ];
  for (const [what, result, message] of cases) {
    it(`refuses ${what} with InvalidRecord`, async () => {
      // Act
      const err = await refusal(putResult({ executionArn: ARN, recordKey: "k", result }, config));
      // Assess
      expect(err.code).toBe("InvalidRecord");
      expect(err.message).toMatch(message);
      expect(ddb.calls()).toHaveLength(0);
    });
  }

  it("refuses an item over DynamoDB's 400 KB with RecordTooLarge", async () => {
    const err = await refusal(
      putResult({ executionArn: ARN, recordKey: "big", result: "x".repeat(MAX_ITEM_BYTES) }, config),
    );
    expect(err.code).toBe("RecordTooLarge");
    expect(err.message).toMatch(/DynamoDB items are limited to 409600 bytes/);
    expect(ddb.calls()).toHaveLength(0);
  });

  it("checks the size with the longest sequence number the record could get", async () => {
    // Prepare: find the largest string result that fits with Seq 0 but not with a 16-digit Seq.
    let fits = 0;
    for (let n = MAX_ITEM_BYTES - 400; n < MAX_ITEM_BYTES; n++) {
      const ok = await putResult({ executionArn: ARN, recordKey: "k", result: "x".repeat(n) }, config).then(
        () => true,
        () => false,
      );
      if (!ok) break;
      fits = n;
    }
    ddb.resetHistory();
    // Act: one byte more is refused up front, whatever the sequence number would have been.
    const err = await refusal(
      putResult({ executionArn: ARN, recordKey: "k", result: "x".repeat(fits + 1) }, config),
    );
    // Assess
    expect(fits).toBeGreaterThan(MAX_ITEM_BYTES - 400);
    expect(err.code).toBe("RecordTooLarge");
    expect(ddb.calls()).toHaveLength(0);
  });

  it("refuses a malformed execution ARN, record key, type or error, and a bad config", async () => {
    const bad: [Parameters<typeof putResult>[0], string][] = [
      [{ executionArn: "arn:aws:states:us-east-1:123:express:x", recordKey: "k" }, "InvalidArn"],
      [{ executionArn: ARN, recordKey: "" }, "InvalidRecord"],
      [{ executionArn: ARN, recordKey: "k".repeat(257) }, "InvalidRecord"],
      [{ executionArn: ARN, recordKey: "k", type: "bogus" as never }, "InvalidRecord"],
      [
        { executionArn: ARN, recordKey: "k", type: "error", error: { Error: 1, Cause: "c" } as never },
        "InvalidRecord",
      ],
      [
        {
          executionArn: ARN,
          recordKey: "k",
          type: "error",
          error: { Error: "E", Cause: "c".repeat(40_000) },
        },
        "InvalidRecord",
      ],
    ];
    for (const [input, code] of bad) {
      const err = await refusal(putResult(input, config));
      expect(err.code, JSON.stringify(input).slice(0, 80)).toBe(code);
    }
    expect(
      (
        await refusal(
          putResult({ executionArn: ARN, recordKey: "k" }, { ...config, resultTtlDays: Number.NaN }),
        )
      ).code,
    ).toBe("BadRequest");
    expect(
      (await refusal(putResult({ executionArn: ARN, recordKey: "k" }, { ...config, tableName: "" }))).code,
    ).toBe("BadRequest");
    expect(ddb.calls()).toHaveLength(0);
  });
});

type Tx = { TransactItems?: { Put?: { Item?: Record<string, { N?: string; S?: string }> } }[] };
/** The record slots a transaction aims at (not its key items, staged items or marker check). */
const slotsOf = (input: Tx) =>
  (input.TransactItems ?? [])
    .filter((a) => a.Put?.Item?.ExecutionArn?.S?.startsWith("arn:"))
    .map((a) => a.Put?.Item?.Seq?.N);
const cancelled = (reasons: object[]) =>
  new TransactionCanceledException({ message: "cancelled", $metadata: {}, CancellationReasons: reasons });

type Av = { S?: string; N?: string };
type FakeItem = Record<string, Av>;
/**
 * Just enough of a table behind the mock for the combining path: Put/Delete/ConditionCheck in
 * transactions (conditions: attribute_not_exists on the slot), conditional PutItem of the marker,
 * and Queries of one partition with the key conditions the writer sends.
 */
function fakeTable(opts: { leader?: string } = {}) {
  const rows = new Map<string, FakeItem>();
  const id = (i: FakeItem) => `${i.ExecutionArn?.S}|${i.Seq?.N}`;
  const t = {
    onStage: undefined as ((item: FakeItem) => void) | undefined,
    put: (i: FakeItem) => void rows.set(id(i), i),
    del: (i: FakeItem) => void rows.delete(id(i)),
    items: () => [...rows.values()],
    /** Each transaction as it was sent (the writer reuses its item objects between attempts). */
    txs: [] as TransactWriteItemsCommandInput[],
  };
  if (opts.leader) {
    t.put({
      ExecutionArn: { S: `stage#${ARN}` },
      Seq: { N: "0" },
      Leader: { S: opts.leader },
      LeaseUntil: { N: String(Date.now() + 60_000) },
    });
  }
  ddb
    .on(TransactWriteItemsCommand)
    .callsFake(
      (input: {
        TransactItems: Record<string, { Item?: FakeItem; Key?: FakeItem; ConditionExpression?: string }>[];
      }) => {
        t.txs.push(structuredClone(input) as TransactWriteItemsCommandInput);
        const reasons = input.TransactItems.map((a) => {
          const [kind, body] = Object.entries(a)[0] as [
            string,
            { Item?: FakeItem; Key?: FakeItem; ConditionExpression?: string },
          ];
          const key = (body.Item ?? body.Key) as FakeItem;
          const old = rows.get(id(key));
          const failed =
            (body.ConditionExpression === "attribute_not_exists(#pk)" && old) ||
            (body.ConditionExpression === "attribute_exists(#pk)" && !old);
          return { kind, key, failed, old };
        });
        if (reasons.some((r) => r.failed)) {
          throw cancelled(
            reasons.map((r) =>
              r.failed
                ? { Code: "ConditionalCheckFailed", ...(r.old ? { Item: r.old } : {}) }
                : { Code: "None" },
            ),
          );
        }
        for (const r of reasons) {
          if (r.kind === "Put") {
            t.put(r.key);
            if (r.key.ExecutionArn?.S?.startsWith("stage#") && r.key.Seq?.N !== "0") t.onStage?.(r.key);
          } else if (r.kind === "Delete") t.del(r.key);
        }
        return {};
      },
    );
  ddb.on(PutItemCommand).callsFake((input: { Item: FakeItem }) => {
    const old = rows.get(id(input.Item));
    if (old && Number(old.LeaseUntil?.N ?? 0) > Date.now() && old.Leader?.S !== input.Item.Leader?.S) {
      throw new ConditionalCheckFailedException({ message: "held", $metadata: {} });
    }
    t.put(input.Item);
    return {};
  });
  let staleOnce = false;
  ddb
    .on(QueryCommand)
    .callsFake(
      (input: {
        ExpressionAttributeValues: Record<string, Av>;
        ScanIndexForward?: boolean;
        ConsistentRead?: boolean;
        Limit?: number;
      }) => {
        const v = input.ExpressionAttributeValues;
        const pk = v[":pk"]?.S;
        // The first head read is stale (eventually consistent): the writer races for a taken slot.
        if (!input.ConsistentRead && pk === ARN && !staleOnce) {
          staleOnce = true;
          return { Items: [] };
        }
        const lo = v[":lo"]?.N === undefined ? undefined : BigInt(v[":lo"].N);
        const hi = v[":hi"]?.N === undefined ? undefined : BigInt(v[":hi"].N);
        let found = [...rows.values()]
          .filter((i) => i.ExecutionArn?.S === pk)
          .filter(
            (i) =>
              (lo === undefined || BigInt(i.Seq?.N as string) >= lo) &&
              (hi === undefined || BigInt(i.Seq?.N as string) <= hi),
          )
          .sort((x, y) => (BigInt(x.Seq?.N as string) < BigInt(y.Seq?.N as string) ? -1 : 1));
        if (input.ScanIndexForward === false) found = found.reverse();
        return { Items: found.slice(0, input.Limit ?? found.length) };
      },
    );
  return t;
}

describe("putResult writes what is valid, exactly once", () => {
  it("appends the first record at offset 0: one head read and one transaction of the record and its key item", async () => {
    // Act
    const out = await putResult(
      { executionArn: ARN, recordKey: "result-0", result: { n: 1, s: "é", l: [true, null] } },
      config,
    );
    // Assess
    expect(out).toEqual({ offset: "0000000000000000", duplicate: false });
    const txs = ddb.commandCalls(TransactWriteItemsCommand);
    expect(txs).toHaveLength(1);
    const [record, key] = txs[0]?.args[0].input.TransactItems ?? [];
    expect(record?.Put?.ConditionExpression).toBe("attribute_not_exists(#pk)");
    expect(record?.Put?.Item?.Seq).toEqual({ N: "0" });
    expect(record?.Put?.Item?.Result).toEqual({
      M: { n: { N: "1" }, s: { S: "é" }, l: { L: [{ BOOL: true }, { NULL: true }] } },
    });
    expect(key?.Put?.ConditionExpression).toBe("attribute_not_exists(#pk)");
    expect(key?.Put?.Item?.ExecutionArn).toEqual({ S: `key#${ARN}#result-0` });
    expect(key?.Put?.Item?.RecordSeq).toEqual({ N: "0" });
    // The head read is eventually consistent: correctness rests on the conditions, not on it.
    const queries = ddb.commandCalls(QueryCommand);
    expect(queries).toHaveLength(1);
    expect(queries[0]?.args[0].input.ConsistentRead).toBeUndefined();
  });

  it("remembers the head it wrote: the next append is one request, no read", async () => {
    await putResult({ executionArn: ARN, recordKey: "a", result: 1 }, config);
    ddb.resetHistory();
    const out = await putResult({ executionArn: ARN, recordKey: "b", result: 2 }, config);
    expect(out).toEqual({ offset: "0000000000000001", duplicate: false });
    expect(ddb.calls()).toHaveLength(1);
    expect(slotsOf(ddb.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input as Tx)).toEqual(["1"]);
  });

  it("accepts numbers at the edges of DynamoDB's range and 32 levels of nesting", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 32; i++) deep = [deep];
    await expect(
      putResult(
        {
          executionArn: ARN,
          recordKey: "k",
          result: [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e-130, 0, -0, 1.5e300 / 1e290],
        },
        config,
      ),
    ).resolves.toMatchObject({ duplicate: false });
    await expect(
      putResult({ executionArn: ARN, recordKey: "k2", result: deep }, config),
    ).resolves.toMatchObject({ duplicate: false });
  });

  it("returns the existing record when its key item exists (a retried step), from the same write", async () => {
    ddb
      .on(TransactWriteItemsCommand)
      .rejects(
        cancelled([
          { Code: "None" },
          { Code: "ConditionalCheckFailed", Item: { RecordSeq: { N: "3" }, Seq: { N: "0" } } },
        ]),
      );
    const out = await putResult({ executionArn: ARN, recordKey: "result-3", result: "again" }, config);
    expect(out).toEqual({ offset: "0000000000000003", duplicate: true });
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
  });

  it("tries the slot after a winner once, then stages its record and combines it at the next slot", async () => {
    // Prepare: a small table behind the mock. Slots 0 and 1 are taken by other writers' records.
    const table = fakeTable();
    table.put({ ExecutionArn: { S: ARN }, Seq: { N: "0" }, Type: { S: "result" } });
    table.put({ ExecutionArn: { S: ARN }, Seq: { N: "1" }, Type: { S: "result" } });
    // Act
    const out = await putResult({ executionArn: ARN, recordKey: "result-1", result: 1 }, config);
    // Assess: appended at 2 by its own combining transaction, which deletes the staged item, writes
    // the key item naming the staged item it came from, and takes the marker away.
    expect(out).toEqual({ offset: "0000000000000002", duplicate: false });
    const [fast, again, stage, combine] = table.txs;
    expect(slotsOf(fast as Tx)).toEqual(["0"]);
    expect(slotsOf(again as Tx)).toEqual(["1"]);
    expect(fast?.TransactItems?.[2]?.ConditionCheck?.Key?.ExecutionArn).toEqual({ S: `stage#${ARN}` });
    expect(stage?.TransactItems).toHaveLength(1);
    const staged = stage?.TransactItems?.[0]?.Put;
    expect(staged?.Item?.ExecutionArn).toEqual({ S: `stage#${ARN}` });
    expect(staged?.Item?.StagedKey).toEqual({ S: "result-1" });
    expect(staged?.Item?.RecordKey).toBeUndefined(); // staged items stay out of the ByRecordKey index
    expect(staged?.Item?.ExpiresAt).toBeDefined(); // and expire like records
    expect(staged?.ConditionExpression).toBe("attribute_not_exists(#pk)");
    const actions = combine?.TransactItems ?? [];
    expect(actions.map((x) => Object.keys(x)[0])).toEqual(["Put", "Put", "Delete", "Delete"]);
    expect(actions[0]?.Put?.Item?.Seq).toEqual({ N: "2" });
    expect(actions[0]?.Put?.Item?.RecordKey).toEqual({ S: "result-1" });
    expect(actions[0]?.Put?.ConditionExpression).toBe("attribute_not_exists(#pk)");
    expect(actions[1]?.Put?.Item?.StagedBy).toEqual(staged?.Item?.Seq);
    expect(actions[1]?.Put?.ConditionExpression).toBe("attribute_not_exists(#pk)");
    expect(actions[2]?.Delete?.Key?.Seq).toEqual(staged?.Item?.Seq);
    expect(actions[2]?.Delete?.ConditionExpression).toBe("attribute_exists(#pk)");
    expect(actions[3]?.Delete?.Key?.Seq).toEqual({ N: "0" }); // the marker, on condition we lead
    expect(actions[3]?.Delete?.ConditionExpression).toBe("#leader = :me");
    expect(table.items().map((i) => i.ExecutionArn?.S?.split(":")[0])).toEqual([
      "arn",
      "arn",
      "arn",
      "key#arn",
    ]);
  });

  it("returns a staged record appended by another combiner as written, from its key item", async () => {
    // Prepare: slot 0 taken; while this writer waits, another combiner (holding the lease) appends
    // its staged record at 1.
    const table = fakeTable({ leader: "someone" });
    table.put({ ExecutionArn: { S: ARN }, Seq: { N: "0" }, Type: { S: "result" } });
    table.put({ ExecutionArn: { S: ARN }, Seq: { N: "1" }, Type: { S: "result" } });
    table.onStage = (item) => {
      setTimeout(() => {
        table.del(item);
        table.put({
          ExecutionArn: { S: `key#${ARN}#result-1` },
          Seq: { N: "0" },
          RecordSeq: { N: "1" },
          StagedBy: item.Seq as { N: string },
        });
      }, 30);
    };
    // Act
    const out = await putResult({ executionArn: ARN, recordKey: "result-1", result: 1 }, config);
    // Assess
    expect(out).toEqual({ offset: "0000000000000001", duplicate: false });
    // The fast path saw the marker (a combiner at work) and staged at once: two transactions.
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(2);
  });

  it("retries throttling and transaction conflicts with back-off, bounded by time", async () => {
    let n = 0;
    ddb.on(TransactWriteItemsCommand).callsFake(() => {
      n++;
      if (n === 1) throw new ProvisionedThroughputExceededException({ message: "slow down", $metadata: {} });
      if (n === 2) throw cancelled([{ Code: "None" }, { Code: "TransactionConflict" }, { Code: "None" }]);
      if (n === 3) throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
      return {};
    });
    const out = await putResult({ executionArn: ARN, recordKey: "r", result: 1 }, config);
    expect(out).toEqual({ offset: "0000000000000000", duplicate: false });
    expect(n).toBe(4);
    // And gives up with Conflict when the time is up.
    ddb
      .on(TransactWriteItemsCommand)
      .rejects(cancelled([{ Code: "None" }, { Code: "TransactionConflict" }, { Code: "None" }]));
    const err = await refusal(
      putResult({ executionArn: ARN, recordKey: "s", result: 1 }, { ...config, retryForMs: 50 }),
    );
    expect(err.code).toBe("Conflict");
  });

  it("refuses to append after a terminal record (StreamClosed), without writing", async () => {
    ddb
      .on(QueryCommand, { ScanIndexForward: false })
      .resolves({ Items: [{ Seq: { N: "4" }, Type: { S: "final" } }] });
    const err = await refusal(putResult({ executionArn: ARN, recordKey: "late", result: 1 }, config));
    expect(err.code).toBe("StreamClosed");
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
  });

  it("returns a retried terminal record as a duplicate after the stream closed", async () => {
    ddb
      .on(QueryCommand, { ScanIndexForward: false })
      .resolves({ Items: [{ Seq: { N: "4" }, Type: { S: "final" } }] });
    ddb.on(QueryCommand, { ConsistentRead: true }).resolves({ Items: [{ RecordSeq: { N: "4" } }] });
    const out = await putResult({ executionArn: ARN, recordKey: "$final", type: "final" }, config);
    expect(out).toEqual({ offset: "0000000000000004", duplicate: true });
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
  });
});

describe("putResults appends one producer's records in order", () => {
  const many = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => ({ executionArn: ARN, recordKey: `t-${from + i}`, result: i }));

  it("writes up to 50 records (100 actions with their key items) per transaction, in order", async () => {
    const out = await putResults(many(120), config);
    expect(out.map((o) => Number(o.offset))).toEqual([...Array(120).keys()]);
    const txs = ddb.commandCalls(TransactWriteItemsCommand).map((c) => c.args[0].input as Tx);
    // The last has room for the check that no combiner is at work (the staging marker is absent).
    expect(txs.map((t) => t.TransactItems?.length)).toEqual([100, 100, 41]);
    expect(txs.flatMap(slotsOf)).toEqual([...Array(120).keys()].map(String));
  });

  it("returns keys written before as duplicates and appends the rest; a key given twice is written once", async () => {
    let first = true;
    ddb.on(TransactWriteItemsCommand).callsFake((input: Tx) => {
      if (first) {
        first = false;
        // t-1 exists already at offset 7.
        const reasons = (input.TransactItems ?? []).map(() => ({ Code: "None" }) as object);
        reasons[3] = { Code: "ConditionalCheckFailed", Item: { RecordSeq: { N: "7" } } };
        throw cancelled(reasons);
      }
      return {};
    });
    const out = await putResults([...many(3), { executionArn: ARN, recordKey: "t-2", result: 2 }], config);
    expect(out).toEqual([
      { offset: "0000000000000000", duplicate: false },
      { offset: "0000000000000007", duplicate: true },
      { offset: "0000000000000001", duplicate: false },
      { offset: "0000000000000001", duplicate: true },
    ]);
  });

  it("refuses mixed executions and a terminal record before the last, before writing", async () => {
    const other = ARN.replace("run-1", "run-2");
    expect(
      (await refusal(putResults([...many(1), { executionArn: other, recordKey: "x" }], config))).code,
    ).toBe("BadRequest");
    expect(
      (await refusal(putResults([{ executionArn: ARN, recordKey: "f", type: "final" }, ...many(1)], config)))
        .code,
    ).toBe("BadRequest");
    expect((await refusal(putResults([], config))).code).toBe("BadRequest");
    expect(ddb.calls()).toHaveLength(0);
  });
});
