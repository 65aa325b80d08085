import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";
import { clientOf, expectedResults, readAll, readLines, startRun } from "./support.js";

// Issue 2's interfaces, over real HTTP against the local stack: the built Lambda bundles, the ASL
// interpreter running the one ASL template, dynalite over the DynamoDB wire protocol, SigV4 on.

let stack: LocalStack;
beforeAll(async () => {
  stack = await startStack({ memory: true, port: 0, outputsFile: null, stepWaitMs: 50 });
});
afterAll(async () => {
  await stack?.close();
});

describe("the pattern end to end", () => {
  it("POST / answers the workflow object; GET completeLambdaResultURL streams the 5 results as JSON Lines", async () => {
    // Act
    const wf = await startRun(stack, {});
    const lines = await readLines(stack, wf.completeLambdaResultURL);
    // Assess
    expect(Object.keys(wf).sort()).toEqual([
      "completeLambdaResultURL",
      "executionArn",
      "lambdaResultURL",
      "startDate",
    ]);
    expect(wf.lambdaResultURL).toBe(stack.streamUrl);
    expect(wf.completeLambdaResultURL).toBe(
      `${stack.streamUrl}?executionArn=${encodeURIComponent(wf.executionArn)}`,
    );
    expect(typeof wf.startDate).toBe("string");
    expect(Math.abs(Number(wf.startDate) * 1000 - Date.now())).toBeLessThan(60_000);
    expect(lines.map((l) => l.Result)).toEqual(expectedResults(5));
    for (const l of lines) {
      expect(l.ExecutionArn).toBe(wf.executionArn);
      expect(l.ResultTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(l.ResultTimestamp)).toBe(l.WrittenAt);
    }
    expect(lines.slice(0, 4).every((l) => l.FinalResult === undefined)).toBe(true);
    expect(lines[4]?.FinalResult).toBe(true);
  });

  it("an empty POST body is the default input", async () => {
    const res = await fetch(stack.apiEndpoint, { method: "POST" });
    expect(res.status).toBe(403); // unsigned: the same door as on AWS
    const wf = await startRun(stack, {});
    expect(wf.executionArn).toMatch(/:express:stepstream-local:/);
  });

  it("runs 10 executions at once, each streaming exactly its own 5 records in order", async () => {
    const client = clientOf(stack);
    const runs = await Promise.all(Array.from({ length: 10 }, () => client.run({ count: 5 })));
    const results = await Promise.all(
      runs.map(async (run) => {
        const records = [];
        for await (const r of run) records.push(r);
        return { arn: run.executionArn, records, outcome: await run.outcome };
      }),
    );
    expect(new Set(results.map((r) => r.arn)).size).toBe(10);
    for (const r of results) {
      expect(r.records.map((x) => x.Result)).toEqual(expectedResults(5));
      expect(r.records.every((x) => x.ExecutionArn === r.arn)).toBe(true);
      expect(r.records.map((x) => x.Offset)).toEqual([...r.records.map((x) => x.Offset)].sort());
      expect(r.outcome.status).toBe("succeeded");
    }
  });

  it("streams a finished execution again, in full, with the same records", async () => {
    const wf = await startRun(stack, { count: 3 });
    const first = await readLines(stack, wf.completeLambdaResultURL);
    const again = await readLines(stack, wf.completeLambdaResultURL);
    expect(first).toHaveLength(3);
    expect(again).toEqual(first);
  });

  it("two readers of one execution both get everything", async () => {
    const wf = await startRun(stack, { count: 5 });
    const [a, b] = await Promise.all([
      readLines(stack, wf.completeLambdaResultURL),
      readLines(stack, wf.completeLambdaResultURL),
    ]);
    expect(a.map((r) => r.Result)).toEqual(expectedResults(5));
    expect(b).toEqual(a);
  });

  it("a failing step ends the stream with a failed terminal record carrying the error", async () => {
    const client = clientOf(stack);
    const run = await client.run({ count: 5, failAt: 2 });
    const records = [];
    for await (const r of run) records.push(r);
    const outcome = await run.outcome;
    expect(records.map((r) => r.Result)).toEqual(expectedResults(2));
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toEqual({
      Error: "SimulatedStepFailure",
      Cause: "step 2 failed on purpose (failAt=2)",
    });
    expect(outcome.terminal.Type).toBe("error");
  });

  it("invalid workflow input is refused by the API with 400 and nothing starts", async () => {
    const before = stack.executions.size;
    await expect(startRun(stack, { count: 0 })).rejects.toThrow(/400/);
    expect(stack.executions.size).toBe(before);
  });

  it("the client reads the stored results of an execution (readAll)", async () => {
    const wf = await startRun(stack, { count: 2 });
    const { records, outcome } = await readAll(clientOf(stack), wf.executionArn);
    expect(records.map((r) => r.Result)).toEqual(expectedResults(2));
    expect(outcome.status).toBe("succeeded");
  });
});
