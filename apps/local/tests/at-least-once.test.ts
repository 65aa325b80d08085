import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ResultRecord } from "@stepstream/client";
import { encodeOffset } from "@stepstream/results-schema";
import { putResult } from "@stepstream/steps";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";
import { clientOf, executionArnOf, expectedResults, partitionItems, readLines, startRun } from "./support.js";

// Express workflows are at-least-once: this stack runs EVERY execution twice, concurrently, with the
// same ARN. Its streamer keeps its default deadline: with a 2 s one, a loaded machine that leaves 2 s
// between two records ended a stream early (seen: 4 records of 6), the deadline working as built,
// not a lost record. The reader-deadline tests have a stack of their own: reader-deadlines.test.ts.

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

describe("at-least-once executions", () => {
  it("an execution delivered twice (every step runs twice, concurrently) still writes each record once", async () => {
    // Act
    const runs = await Promise.all(
      Array.from({ length: 5 }, () =>
        startRun(stack, { count: 6, concurrency: 3, stepWaitSeconds: 0, stepJitterMs: 30 }),
      ),
    );
    const streams = await Promise.all(runs.map((wf) => readLines(stack, wf.completeLambdaResultURL)));
    await stack.idle();
    // Assess: the stream and the table hold exactly one record per step, dense offsets, one terminal.
    for (const [i, wf] of runs.entries()) {
      const lines = streams[i] as ResultRecord[];
      expect(lines.map((l) => l.Offset)).toEqual([0, 1, 2, 3, 4, 5].map(encodeOffset));
      expect([...lines.map((l) => l.Result)].sort()).toEqual(expectedResults(6).sort());
      expect(lines.at(-1)?.Result).toBe("This is simulated result 5");
      const items = await partitionItems(stack, ddb, wf.executionArn);
      expect(items).toHaveLength(6);
      expect(items.filter((x) => x.Type?.S !== "result")).toHaveLength(1);
    }
  });

  it("a failing execution delivered twice ends with exactly one failed record", async () => {
    const wf = await startRun(stack, { count: 4, failAt: 2, stepWaitSeconds: 0 });
    const s = clientOf(stack).stream(wf.executionArn);
    for await (const _ of s) {
      // drain
    }
    expect((await s.outcome).status).toBe("failed");
    await stack.idle();
    const items = await partitionItems(stack, ddb, wf.executionArn);
    expect(items.filter((x) => x.Type?.S === "error")).toHaveLength(1);
    expect(items.filter((x) => x.Type?.S === "result")).toHaveLength(2);
  });

  it("putResult called twice with the same key writes one record and reports the duplicate", async () => {
    const executionArn = executionArnOf(stack, "twice");
    const config = { tableName: stack.tableName, resultTtlDays: 1, client: ddb };
    const first = await putResult({ executionArn, recordKey: "step-a", result: { n: 1 } }, config);
    const second = await putResult({ executionArn, recordKey: "step-a", result: { n: 2 } }, config);
    expect(first).toEqual({ offset: encodeOffset(0), duplicate: false });
    expect(second).toEqual({ offset: encodeOffset(0), duplicate: true });
    const items = await partitionItems(stack, ddb, executionArn);
    expect(items).toHaveLength(1);
    expect(items[0]?.Result).toEqual({ M: { n: { N: "1" } } });
  });

  it("nothing can be appended after the terminal record", async () => {
    const executionArn = executionArnOf(stack, "closed");
    const config = { tableName: stack.tableName, resultTtlDays: 1, client: ddb };
    await putResult({ executionArn, recordKey: "only", result: 1, type: "final" }, config);
    await expect(putResult({ executionArn, recordKey: "late", result: 2 }, config)).rejects.toMatchObject({
      code: "StreamClosed",
    });
    // …but a retry of a step already written is still answered as its duplicate.
    await expect(
      putResult({ executionArn, recordKey: "only", result: 1, type: "final" }, config),
    ).resolves.toMatchObject({ duplicate: true });
  });
});
