import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { QueryCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { toItem } from "@stepstream/results-schema";
import { describe, expect, it } from "vitest";
import { sampleStream } from "../src/baseline/sample-reader.js";

const ARN = "arn:aws:states:us-east-1:000000000000:express:sm:run--1:0f8e";

function stored(seq: number, type: "result" | "final"): Record<string, AttributeValue> {
  return toItem({
    executionArn: ARN,
    recordKey: `result-${seq}`,
    type,
    result: `r${seq}`,
    seq,
    timestamp: 1,
    expiresAt: 4e9,
  });
}

describe("sampleStream (the AWS sample's algorithm)", () => {
  it("polls with a consistent filtered Query, marks each record it writes, and stops after the final one", async () => {
    // Prepare: the table fills over three polls; `Streamed` hides what was sent.
    const table: Record<string, AttributeValue>[] = [];
    const arrivals = [[stored(0, "result")], [], [stored(1, "result"), stored(2, "final")]];
    const sent: unknown[] = [];
    const client = {
      async send(cmd: QueryCommand | UpdateItemCommand) {
        sent.push(cmd);
        if (cmd instanceof QueryCommand) {
          table.push(...(arrivals.shift() ?? []));
          return { Items: table.filter((i) => !i.Streamed) };
        }
        const seq = cmd.input.Key?.Seq?.N;
        const item = table.find((i) => i.Seq?.N === seq);
        if (item) item.Streamed = { BOOL: true };
        return {};
      },
    };
    const lines: string[] = [];
    const sleeps: number[] = [];
    // Act
    const n = await sampleStream({
      client,
      tableName: "t",
      executionArn: ARN,
      pollMs: 2000,
      write: (l) => lines.push(l),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    // Assess
    expect(n).toBe(3);
    expect(lines.map((l) => JSON.parse(l).Offset)).toEqual([
      "0000000000000000",
      "0000000000000001",
      "0000000000000002",
    ]);
    const queries = sent.filter((c) => c instanceof QueryCommand) as QueryCommand[];
    expect(queries).toHaveLength(3);
    expect(queries[0]?.input).toMatchObject({
      ConsistentRead: true,
      FilterExpression: "attribute_not_exists(Streamed)",
    });
    expect(sent.filter((c) => c instanceof UpdateItemCommand)).toHaveLength(3);
    // It sleeps its fixed interval after every poll, the last one included (as the sample does).
    expect(sleeps).toEqual([2000, 2000, 2000]);
  });
});
