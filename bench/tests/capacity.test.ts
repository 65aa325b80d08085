import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { itemSize, startTimeOfExecution } from "@stepstream/results-schema";
import { describe, expect, it } from "vitest";
import { CapacityLedger, diffSnapshot, groupOf, readUnits, writeUnits } from "../src/capacity.js";
import { tagOf } from "../src/door.js";
import { executionArnFor } from "../src/harness.js";
import type { StackInfo } from "../src/protocol.js";

const ARN = "arn:aws:states:us-east-1:000000000000:express:sm:latency--3:0f8e";

/** An item of `bytes` bytes (as DynamoDB counts them) at `seq`. */
function item(seq: number, bytes: number): Record<string, AttributeValue> {
  const base = { ExecutionArn: { S: ARN }, Seq: { N: String(seq) }, Pad: { S: "" } };
  const pad = bytes - itemSize(base);
  return { ...base, Pad: { S: "x".repeat(Math.max(0, pad)) } };
}

describe("read and write units", () => {
  it("rounds reads up to 4 KB, at least one unit, half for eventually consistent reads", () => {
    expect(readUnits(0, true)).toBe(1);
    expect(readUnits(0, false)).toBe(0.5);
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(4097, false)).toBe(1);
    expect(readUnits(100 * 4096, false)).toBe(50);
  });

  it("rounds writes up to 1 KB, at least one unit", () => {
    expect(writeUnits(1)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
  });
});

describe("CapacityLedger", () => {
  it("charges a filtered Query for every item it read, not just the ones it returned", () => {
    // Prepare: 10 items of 1,000 bytes; 9 of them already marked.
    const ledger = new CapacityLedger();
    for (let s = 0; s < 10; s++)
      ledger.observe("PutItem", "writer", 200, { TableName: "t", Item: item(s, 1000) }, {});
    // Act: the sample's query returns only the last one.
    ledger.observe(
      "Query",
      "baseline",
      200,
      {
        TableName: "t",
        KeyConditionExpression: "ExecutionArn = :ExecutionArn",
        FilterExpression: "attribute_not_exists(Streamed)",
        ExpressionAttributeValues: { ":ExecutionArn": { S: ARN } },
        ConsistentRead: true,
      },
      { Items: [item(9, 1000)], Count: 1, ScannedCount: 10 },
    );
    // Assess: 10,000 bytes → 3 strongly consistent units.
    const t = ledger.snapshot().byTag.baseline;
    expect(t?.ops.Query).toBe(1);
    expect(t?.itemsRead).toBe(10);
    expect(t?.itemsReturned).toBe(1);
    expect(t?.readUnits).toBe(3);
  });

  it("charges an unfiltered Query by the items it returned, half for eventually consistent reads", () => {
    const ledger = new CapacityLedger();
    const req = {
      TableName: "t",
      KeyConditionExpression: "#pk = :pk AND #sk > :sk",
      ExpressionAttributeNames: { "#pk": "ExecutionArn", "#sk": "Seq" },
      ExpressionAttributeValues: { ":pk": { S: ARN }, ":sk": { N: "4" } },
      Limit: 200,
    };
    ledger.observe("Query", "ours", 200, req, {
      Items: [item(5, 3000), item(6, 3000)],
      Count: 2,
      ScannedCount: 2,
    });
    ledger.observe("Query", "ours", 200, req, { Items: [], Count: 0, ScannedCount: 0 });
    const t = ledger.snapshot().byTag.ours;
    expect(t?.readUnits).toBe(1 + 0.5); // 6,000 bytes → 2 units → 1 RCU; an empty query → 0.5
    expect(t?.emptyQueries).toBe(1);
  });

  it("charges a projected Query for the whole items it read (from the shadow of the writes)", () => {
    const ledger = new CapacityLedger();
    ledger.observe("PutItem", "writer", 200, { TableName: "t", Item: item(0, 5000) }, {});
    ledger.observe(
      "Query",
      "writer",
      200,
      {
        TableName: "t",
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": "ExecutionArn", "#sk": "Seq" },
        ExpressionAttributeValues: { ":pk": { S: ARN } },
        ProjectionExpression: "#sk",
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      },
      { Items: [{ Seq: { N: "0" } }], Count: 1, ScannedCount: 1 },
    );
    expect(ledger.snapshot().byTag.writer?.readUnits).toBe(2);
  });

  it("charges an UpdateItem by the larger of the item before and after, and updates the shadow", () => {
    const ledger = new CapacityLedger();
    ledger.observe("PutItem", "writer", 200, { TableName: "t", Item: item(0, 1020) }, {});
    ledger.observe(
      "UpdateItem",
      "baseline",
      200,
      {
        TableName: "t",
        Key: { ExecutionArn: { S: ARN }, Seq: { N: "0" } },
        UpdateExpression: "set Streamed = :streamed",
        ExpressionAttributeValues: { ":streamed": { BOOL: true } },
      },
      {},
    );
    // 1,020 + len("Streamed") + 1 = 1,029 bytes → 2 write units.
    expect(ledger.snapshot().byTag.baseline?.writeUnits).toBe(2);
    expect(ledger.snapshot().byTag.writer?.writeUnits).toBe(1);
  });

  it("still charges a failed conditional write, and counts it as an error", () => {
    const ledger = new CapacityLedger();
    ledger.observe("PutItem", "writer", 400, { TableName: "t", Item: item(0, 10) }, {});
    const t = ledger.snapshot().byTag.writer;
    expect(t?.writeUnits).toBe(1);
    expect(t?.errors.PutItem).toBe(1);
    expect(t?.itemsWritten).toBe(0);
  });

  it("charges a TransactWriteItems twice per item (prepare + commit), each item by its size", () => {
    // Prepare: the writer's append — the record and its key item, in one transaction.
    const ledger = new CapacityLedger();
    const keyItem = { ExecutionArn: { S: `key#${ARN}#step-1` }, Seq: { N: "0" }, RecordSeq: { N: "0" } };
    const req = {
      TransactItems: [
        { Put: { TableName: "t", Item: item(0, 1500), ConditionExpression: "attribute_not_exists(#pk)" } },
        { Put: { TableName: "t", Item: keyItem, ConditionExpression: "attribute_not_exists(#pk)" } },
      ],
    };
    // Act: one that commits, one that is cancelled.
    ledger.observe("TransactWriteItems", "writer", 200, req, {});
    ledger.observe("TransactWriteItems", "writer", 400, req, {});
    // Assess: (2 KB → 2 units + 1 unit) × 2 = 6 write units per transaction, the cancelled one too.
    const t = ledger.snapshot().byTag.writer;
    expect(t?.ops.TransactWriteItems).toBe(2);
    expect(t?.errors.TransactWriteItems).toBe(1);
    expect(t?.writeUnits).toBe(12);
    expect(t?.itemsWritten).toBe(2);
    // Both items (the key item too) count in the execution's group.
    const g = ledger.snapshot().byGroup.writer?.latency;
    expect(g?.ops.TransactWriteItems).toBe(2);
    expect(g?.writeUnits).toBe(12);
  });

  it("charges a transactional overwrite by the larger item, and a ConditionCheck like a write", () => {
    const ledger = new CapacityLedger();
    ledger.observe("PutItem", "writer", 200, { TableName: "t", Item: item(0, 3000) }, {});
    ledger.observe(
      "TransactWriteItems",
      "writer",
      200,
      {
        TransactItems: [
          { Put: { TableName: "t", Item: item(0, 10) } },
          { ConditionCheck: { TableName: "t", Key: { ExecutionArn: { S: ARN }, Seq: { N: "7" } } } },
        ],
      },
      {},
    );
    // PutItem 3 units; then (3 KB before → 3) × 2 + (nothing → 1) × 2 = 8.
    expect(ledger.snapshot().byTag.writer?.writeUnits).toBe(3 + 8);
  });

  it("splits by execution group and diffs snapshots", () => {
    const ledger = new CapacityLedger();
    ledger.observe("PutItem", "writer", 200, { TableName: "t", Item: item(0, 10) }, {});
    const a = ledger.snapshot();
    ledger.observe("PutItem", "writer", 200, { TableName: "t", Item: item(1, 10) }, {});
    const d = diffSnapshot(ledger.snapshot(), a);
    expect(d.byTag.writer?.ops.PutItem).toBe(1);
    expect(d.byGroup.writer?.latency?.ops.PutItem).toBe(1);
  });
});

describe("groupOf and tagOf", () => {
  it("reads the group from the execution name", () => {
    expect(groupOf(ARN)).toBe("latency");
    expect(groupOf("arn:aws:states:us-east-1:000000000000:express:sm:plain:1")).toBe("other");
    expect(groupOf(undefined)).toBe("other");
  });

  it("names the bench's executions as the start API does, so the streamer knows them before their first record", () => {
    const stack = { stateMachineArn: "arn:aws:states:us-east-1:000000000000:stateMachine:sm" } as StackInfo;
    const before = Date.now();
    const arn = executionArnFor(stack, "scale-500", 42);
    const started = startTimeOfExecution(arn);
    expect(started).toBeGreaterThanOrEqual(before);
    expect(started).toBeLessThanOrEqual(Date.now());
    expect(groupOf(arn)).toBe("scale-500");
    expect(arn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:express:sm:ss-\d{13}-scale-500--42-[0-9a-f]{8}:[0-9a-f-]{36}$/,
    );
  });

  it("reads the bench mark from the user agent; anything else is our streamer", () => {
    expect(tagOf({ "user-agent": "aws-sdk-js/3 ua/2.1 stepstream-bench/baseline" })).toBe("baseline");
    expect(tagOf({ "x-amz-user-agent": "aws-sdk-js/3 stepstream-bench/writer m/E" })).toBe("writer");
    expect(tagOf({ "user-agent": "aws-sdk-js/3 ua/2.1 os/linux" })).toBe("ours");
  });
});
