import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  fromItem,
  itemSize,
  MAX_ITEM_BYTES,
  parseExecutionArn,
  parseRecord,
  recordJsonSchema,
  StepstreamError,
  stateMachineArnOf,
  syntheticTimeout,
  TABLE_SCHEMA,
  terminalStatusOf,
  toItem,
  writeTime,
  writeTimeAttributes,
} from "../../src/index.js";

const ARN =
  "arn:aws:states:us-east-1:123456789012:express:stepstream:run-1:0f8e2b7c-1d2e-4c5f-9a8b-7c6d5e4f3a2b";

const base = {
  executionArn: ARN,
  recordKey: "result-0",
  type: "result" as const,
  seq: 3,
  timestamp: 1_700_000_000_000,
  expiresAt: 2_000_000_000,
};

describe("record codec", () => {
  it("writes the table's keys and reads back the same record", () => {
    // Act
    const item = toItem({ ...base, result: { text: "hello", n: [1, 2, 3] } });
    const stored = fromItem(item, 1_800_000_000);
    // Assess
    expect(item[TABLE_SCHEMA.partitionKey]).toEqual({ S: ARN });
    expect(item[TABLE_SCHEMA.sortKey]).toEqual({ N: "3" });
    expect(item[TABLE_SCHEMA.ttlAttribute]).toEqual({ N: "2000000000" });
    expect(stored?.seq).toBe(3);
    expect(stored?.record).toEqual({
      ExecutionArn: ARN,
      Offset: "0000000000000003",
      Type: "result",
      RecordKey: "result-0",
      Result: { text: "hello", n: [1, 2, 3] },
      ResultTimestamp: "2023-11-14T22:13:20.000Z",
      WrittenAt: 1_700_000_000_000,
    });
    // The stored item carries both, so a reader of the raw table (the sample's) sees the string too.
    expect(item.ResultTimestamp).toEqual({ S: "2023-11-14T22:13:20.000Z" });
    expect(item.WrittenAt).toEqual({ N: "1700000000000" });
  });

  it("writes ResultTimestamp as an ISO-8601 string with milliseconds and WrittenAt as epoch ms", () => {
    expect(writeTime(1_796_160_795_123)).toEqual({
      ResultTimestamp: "2026-12-01T21:33:15.123Z",
      WrittenAt: 1_796_160_795_123,
    });
    expect(writeTimeAttributes(1_796_160_795_123)).toEqual({
      ResultTimestamp: { S: "2026-12-01T21:33:15.123Z" },
      WrittenAt: { N: "1796160795123" },
    });
    const r = fromItem(toItem(base), 0)?.record;
    expect(typeof r?.ResultTimestamp).toBe("string");
    expect(Date.parse(r?.ResultTimestamp ?? "")).toBe(r?.WrittenAt);
    expect(() => parseRecord({ ...r, ResultTimestamp: 1_700_000_000_000 })).toThrow(/ResultTimestamp/);
    expect(() => parseRecord({ ...r, ResultTimestamp: "2026-12-01T21:33:15Z" })).toThrow(/ResultTimestamp/);
  });

  it("says what is wrong with a record in words (zod/mini has no messages without a locale)", () => {
    // Prepare
    const r = fromItem(toItem(base), 0)?.record;
    // Act / Assess
    expect(() => parseRecord({ ...r, RecordKey: "" })).toThrow(
      "invalid record: RecordKey: Too small: expected string to have >=1 characters",
    );
    expect(() => parseRecord({ ...r, WrittenAt: 1.5 })).toThrow(
      "invalid record: WrittenAt: Invalid input: expected int, received number",
    );
    expect(() => parseRecord({ ...r, Type: "done" })).toThrow(
      'invalid record: Type: Invalid option: expected one of "result"|"final"|"error"|"timeout"',
    );
    expect(() => parseRecord(null)).toThrow(
      "invalid record: (root): Invalid input: expected object, received null",
    );
  });

  it("reads an item written before WrittenAt existed (ResultTimestamp as epoch ms)", () => {
    const item = toItem(base);
    delete item.WrittenAt;
    item.ResultTimestamp = { N: "1700000000000" };
    expect(fromItem(item, 0)?.record).toMatchObject({
      ResultTimestamp: "2023-11-14T22:13:20.000Z",
      WrittenAt: 1_700_000_000_000,
    });
  });

  it("puts the final-result flag on every terminal record (final, error, timeout), never on a result", () => {
    const error = { Error: "Boom", Cause: "step failed" };
    for (const type of ["final", "error", "timeout"] as const) {
      const r = fromItem(toItem({ ...base, type, ...(type === "final" ? {} : { error }) }), 0)?.record;
      expect(r?.FinalResult, type).toBe(true);
      const named = fromItem(
        toItem({ ...base, type, ...(type === "final" ? {} : { error }) }, { finalResultField: "Done" }),
        0,
        { finalResultField: "Done" },
      )?.record as Record<string, unknown> | undefined;
      expect(named?.Done, type).toBe(true);
      expect(named?.FinalResult, type).toBeUndefined();
    }
    expect(fromItem(toItem(base), 0)?.record.FinalResult).toBeUndefined();
    expect(syntheticTimeout(ARN, 2, 1000).FinalResult).toBe(true);
    expect(
      (syntheticTimeout(ARN, 2, 1000, { finalResultField: "Done" }) as Record<string, unknown>).Done,
    ).toBe(true);
  });

  it("marks the final record with FinalResult: true, or the configured field name", () => {
    const standard = fromItem(toItem({ ...base, type: "final", result: "done" }), 0);
    const renamed = fromItem(
      toItem({ ...base, type: "final", result: "done" }, { finalResultField: "IsLast" }),
      0,
      {
        finalResultField: "IsLast",
      },
    );
    expect(standard?.record.FinalResult).toBe(true);
    expect((renamed?.record as Record<string, unknown> | undefined)?.IsLast).toBe(true);
    expect(terminalStatusOf("final")).toBe("succeeded");
    expect(terminalStatusOf("error")).toBe("failed");
    expect(terminalStatusOf("timeout")).toBe("timedOut");
    expect(terminalStatusOf("result")).toBeUndefined();
  });

  it("never returns an expired record", () => {
    const item = toItem({ ...base, expiresAt: 1000 });
    expect(fromItem(item, 1000)).toBeNull();
    expect(fromItem(item, 999)).not.toBeNull();
  });

  it.each([
    ["a function", () => 1],
    ["a bigint", 10n],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a Date", new Date(0)],
    ["a Map", new Map()],
    ["a symbol", Symbol("x")],
  ])("rejects %s as a result before writing", (_name, value) => {
    expect(() => toItem({ ...base, result: { nested: [value] } })).toThrow(StepstreamError);
  });

  it("rejects a cyclic result", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toItem({ ...base, result: cyclic })).toThrow(/cycle/);
  });

  it("rejects a record over DynamoDB's 400 KB item limit with RecordTooLarge", () => {
    const big = "x".repeat(MAX_ITEM_BYTES);
    try {
      toItem({ ...base, result: big });
      expect.unreachable();
    } catch (err) {
      expect((err as StepstreamError).code).toBe("RecordTooLarge");
    }
    const fits = toItem({ ...base, result: "x".repeat(MAX_ITEM_BYTES - 1000) });
    expect(itemSize(fits)).toBeLessThanOrEqual(MAX_ITEM_BYTES);
  });

  it("rejects an invalid ARN or key before writing", () => {
    expect(() => toItem({ ...base, executionArn: "arn:aws:states:us-east-1:1:express:a:b:c" })).toThrow(
      StepstreamError,
    );
    expect(() => toItem({ ...base, recordKey: "" })).toThrow(StepstreamError);
  });

  it("validates records on read", () => {
    expect(() =>
      parseRecord({
        ExecutionArn: ARN,
        Offset: "12",
        Type: "result",
        RecordKey: "k",
        Result: 1,
        ResultTimestamp: "2026-12-01T21:33:15.123Z",
        WrittenAt: 1,
      }),
    ).toThrow(/Offset/);
    expect(() =>
      parseRecord({
        ExecutionArn: ARN,
        Offset: "0000000000000001",
        Type: "other",
        RecordKey: "k",
        ResultTimestamp: "2026-12-01T21:33:15.123Z",
        WrittenAt: 1,
      }),
    ).toThrow(/Type/);
  });
});

describe("execution ARNs", () => {
  it("parses an Express execution ARN and derives its state machine", () => {
    const p = parseExecutionArn(ARN);
    expect(p).toMatchObject({
      region: "us-east-1",
      account: "123456789012",
      kind: "express",
      stateMachineName: "stepstream",
      executionName: "run-1",
    });
    expect(stateMachineArnOf(ARN)).toBe("arn:aws:states:us-east-1:123456789012:stateMachine:stepstream");
  });

  it.each([
    "",
    "arn:aws:states:us-east-1:123456789012:stateMachine:stepstream",
    "arn:aws:lambda:us-east-1:123456789012:function:x",
    "arn:aws:states:us-east-1:123456789012:express:../etc:passwd:x",
    `arn:aws:states:us-east-1:123456789012:express:${"a".repeat(300)}:b:c`,
    "arn:aws:states:us-east-1:123456789012:express:sm:name' OR 1=1:x",
  ])("rejects %j", (arn) => {
    expect(() => parseExecutionArn(arn)).toThrow(StepstreamError);
  });
});

describe("JSON Schema", () => {
  it("is generated from the same definition and requires the sample's fields", () => {
    const schema = recordJsonSchema() as { required: string[]; properties: Record<string, unknown> };
    expect(schema.required).toEqual(
      expect.arrayContaining(["ExecutionArn", "Offset", "Type", "RecordKey", "ResultTimestamp", "WrittenAt"]),
    );
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["Result", "Error"]));
    const written = JSON.parse(
      readFileSync(new URL("../../dist/record.schema.json", import.meta.url), "utf8"),
    );
    expect(written).toEqual(schema);
  });
});
