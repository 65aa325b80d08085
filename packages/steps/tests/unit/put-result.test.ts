import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { MAX_ITEM_BYTES, StepstreamError } from "@stepstream/results-schema";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { putResult } from "../../src/put-result.js";

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
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(PutItemCommand).resolves({});
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

describe("putResult writes what is valid, exactly once", () => {
  it("appends the first record at offset 0 with a conditional put", async () => {
    // Act
    const out = await putResult(
      { executionArn: ARN, recordKey: "result-0", result: { n: 1, s: "é", l: [true, null] } },
      config,
    );
    // Assess
    expect(out).toEqual({ offset: "0000000000000000", duplicate: false });
    const puts = ddb.commandCalls(PutItemCommand);
    expect(puts).toHaveLength(1);
    const put = puts[0]?.args[0].input;
    expect(put?.ConditionExpression).toBe("attribute_not_exists(#pk)");
    expect(put?.Item?.Seq).toEqual({ N: "0" });
    expect(put?.Item?.Result).toEqual({
      M: { n: { N: "1" }, s: { S: "é" }, l: { L: [{ BOOL: true }, { NULL: true }] } },
    });
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

  it("returns the existing record for a key written before (a retried step), without writing", async () => {
    ddb.on(QueryCommand, { IndexName: "ByRecordKey" }).resolves({ Items: [{ Seq: { N: "3" } }] });
    ddb
      .on(QueryCommand, { ScanIndexForward: false })
      .resolves({ Items: [{ Seq: { N: "4" }, Type: { S: "result" } }] });
    const out = await putResult({ executionArn: ARN, recordKey: "result-3", result: "again" }, config);
    expect(out).toEqual({ offset: "0000000000000003", duplicate: true });
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  it("reads again and takes the next sequence number when another writer won the race", async () => {
    ddb
      .on(QueryCommand, { ScanIndexForward: false })
      .resolvesOnce({ Items: [] })
      .resolves({ Items: [{ Seq: { N: "0" }, Type: { S: "result" } }] });
    const attempted: (string | undefined)[] = [];
    ddb.on(PutItemCommand).callsFake((input: { Item?: Record<string, { N?: string }> }) => {
      attempted.push(input.Item?.Seq?.N);
      if (attempted.length === 1)
        throw new ConditionalCheckFailedException({ message: "taken", $metadata: {} });
      return {};
    });
    const out = await putResult({ executionArn: ARN, recordKey: "result-1", result: 1 }, config);
    expect(out).toEqual({ offset: "0000000000000001", duplicate: false });
    expect(attempted).toEqual(["0", "1"]);
  });

  it("refuses to append after a terminal record (StreamClosed), without writing", async () => {
    ddb
      .on(QueryCommand, { ScanIndexForward: false })
      .resolves({ Items: [{ Seq: { N: "4" }, Type: { S: "final" } }] });
    const err = await refusal(putResult({ executionArn: ARN, recordKey: "late", result: 1 }, config));
    expect(err.code).toBe("StreamClosed");
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });
});
