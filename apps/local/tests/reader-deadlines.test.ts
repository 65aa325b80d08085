import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { toItem } from "@stepstream/results-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";
import { clientOf, executionArnOf, partitionItems, readLines } from "./support.js";

// The reader's deadlines, on a stack whose streamer gives up on silent executions after 2 s (its own
// file: the in-process Lambdas of a stack take their endpoints from the process's environment, so
// one test process runs one stack).

let stack: LocalStack;
let ddb: DynamoDBClient;
beforeAll(async () => {
  stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: null,
    streamer: { streamTimeoutSeconds: 2 },
  });
  ddb = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
});
afterAll(async () => {
  ddb?.destroy();
  await stack?.close();
});

describe("reader deadlines and retention", () => {
  it("a stream for an execution that writes nothing ends with a clear timeout record after stream_timeout_seconds", async () => {
    const started = Date.now();
    const s = clientOf(stack).stream(executionArnOf(stack, "silent"));
    const got = [];
    for await (const r of s) got.push(r);
    const outcome = await s.outcome;
    expect(got).toEqual([]);
    expect(outcome.status).toBe("timedOut");
    expect(outcome.terminal).toMatchObject({
      Type: "timeout",
      Synthetic: true,
      Error: { Error: "StreamTimeout" },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  });

  it("the default JSON Lines stream ends with the timeout record too", async () => {
    const url = `${stack.streamUrl}?executionArn=${encodeURIComponent(executionArnOf(stack, "silent-raw"))}`;
    const lines = await readLines(stack, url);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ Type: "timeout", Synthetic: true });
  });

  it("never returns an expired record, even though the emulator (like DynamoDB, for a while) still holds it", async () => {
    // Prepare: seq 0 expired an hour ago, seq 1 is live and final.
    const executionArn = executionArnOf(stack, "expiring");
    const now = Date.now();
    const nowSec = Math.floor(now / 1000);
    for (const [seq, expiresAt, type] of [
      [0, nowSec - 3600, "result"],
      [1, nowSec + 3600, "final"],
    ] as const) {
      await ddb.send(
        new PutItemCommand({
          TableName: stack.tableName,
          Item: toItem({
            executionArn,
            recordKey: `k${seq}`,
            type,
            result: `r${seq}`,
            seq,
            timestamp: now,
            expiresAt,
          }),
        }),
      );
    }
    // Act
    const lines = await readLines(
      stack,
      `${stack.streamUrl}?executionArn=${encodeURIComponent(executionArn)}`,
    );
    // Assess
    expect((await partitionItems(stack, ddb, executionArn)).length).toBe(2);
    expect(lines.map((l) => l.Result)).toEqual(["r1"]);
  });
});
