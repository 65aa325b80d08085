import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DynamoEmulator, type LocalStack, startDynamo, startStack } from "../src/index.js";
import { clientOf, expectedResults, readAll } from "./support.js";

// The stack on a DynamoDB it did not start: the emulator `startDynamo` serves (here in this process;
// the benchmark serves it from another one). Everything the stack writes and reads goes there.

let emulator: DynamoEmulator;
let stack: LocalStack;
beforeAll(async () => {
  emulator = await startDynamo({ port: 0 });
  stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: null,
    stepWaitMs: 0,
    dynamoEndpoint: emulator.endpoint,
  });
});
afterAll(async () => {
  await stack?.close();
  await emulator?.close();
});

describe("startStack({ dynamoEndpoint })", () => {
  it("creates the table there, and the bundles write and read every record through it", async () => {
    // Act
    const run = await clientOf(stack).run({ count: 3 });
    const { records, outcome } = await readAll(clientOf(stack), run.executionArn);
    // Assess: the records arrived, and every request went to the external emulator, none elsewhere.
    expect(records.map((r) => r.Result)).toEqual(expectedResults(3));
    expect(outcome.status).toBe("succeeded");
    expect(stack.dynamoEndpoint).toBe(emulator.endpoint);
    expect(stack.outputs.dynamodb_endpoint?.value).toBe(emulator.endpoint);
    expect(emulator.counts.CreateTable).toBe(1);
    expect(emulator.counts.TransactWriteItems ?? 0).toBeGreaterThanOrEqual(3);
    expect(emulator.counts.Query ?? 0).toBeGreaterThan(0);
    expect(stack.dynamoCounts).toEqual({});
  });

  it("refuses an endpoint that is not an http(s) URL, saying what it got", async () => {
    await expect(
      startStack({ memory: true, port: 0, outputsFile: null, dynamoEndpoint: "localhost:8000" }),
    ).rejects.toThrow('the DynamoDB endpoint must be an http(s) URL, got "localhost:8000"');
  });
});
