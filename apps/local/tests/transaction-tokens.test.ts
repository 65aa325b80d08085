import { DynamoDBClient, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { TABLE_SCHEMA } from "@stepstream/results-schema";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { IdempotencyTokens } from "../src/idempotency-tokens.js";
import { type DynamoEmulator, ensureResultsTable, startDynamo } from "../src/index.js";

// `TransactWriteItems`'s ClientRequestToken on the emulator. The SDK fills in a new token for every
// call, so the emulator holds one per successful transaction for 10 minutes: thousands per run. A
// transaction used to scan all of them, so each run's transactions were slower than the last's.

describe("IdempotencyTokens", () => {
  it("looks at O(1) entries per request however many it holds", () => {
    const tokens = new IdempotencyTokens(600_000);
    for (let i = 0; i < 10_000; i++) tokens.set(`t${i}`, `h${i}`, 1_000 + i);
    const before = tokens.visited;
    for (let i = 0; i < 100; i++) expect(tokens.get(`t${i}`, 20_000)).toBe(`h${i}`);
    expect(tokens.visited - before).toBe(100);
    expect(tokens.size).toBe(10_000);
  });

  it("forgets a token ttl after its first use, oldest first, each looked at once", () => {
    const tokens = new IdempotencyTokens(1_000);
    for (let i = 0; i < 10; i++) tokens.set(`t${i}`, "h", i * 100);
    tokens.set("t0", "other", 950); // a held token keeps its first use
    expect(tokens.get("t0", 1_000)).toBe("h");
    const before = tokens.visited;
    expect(tokens.get("t0", 1_450)).toBeUndefined(); // t0..t4 are older than 1 s
    expect(tokens.size).toBe(5);
    expect(tokens.visited - before).toBe(6);
    expect(tokens.get("t9", 1_900)).toBe("h");
    expect(tokens.get("t9", 1_901)).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it("keeps the oldest-first order when the clock steps back", () => {
    const tokens = new IdempotencyTokens(1_000);
    tokens.set("a", "h", 5_000);
    tokens.set("b", "h", 4_000); // held as if first used at 5000
    expect(tokens.get("b", 5_500)).toBe("h");
    expect(tokens.get("b", 6_001)).toBeUndefined();
  });
});

describe("TransactWriteItems tokens on the emulator", () => {
  let emulator: DynamoEmulator;
  let client: DynamoDBClient;
  const TableName = "tokens";
  const put = (pk: string) => ({
    Put: {
      TableName,
      Item: { [TABLE_SCHEMA.partitionKey]: { S: pk }, [TABLE_SCHEMA.sortKey]: { N: "0" } },
      ConditionExpression: "attribute_not_exists(#pk)",
      ExpressionAttributeNames: { "#pk": TABLE_SCHEMA.partitionKey },
    },
  });
  beforeAll(async () => {
    emulator = await startDynamo({ port: 0 });
    client = new DynamoDBClient({
      region: "us-east-1",
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 1,
    });
    await ensureResultsTable(client, TableName);
  });
  afterAll(async () => {
    client?.destroy();
    await emulator?.close();
  });

  it("a repeated token is idempotent for the same request and refused for another", async () => {
    const token = "repeat-token";
    await client.send(
      new TransactWriteItemsCommand({ TransactItems: [put("r1")], ClientRequestToken: token }),
    );
    // The same request again succeeds without writing again (its condition would fail now).
    await client.send(
      new TransactWriteItemsCommand({ TransactItems: [put("r1")], ClientRequestToken: token }),
    );
    await expect(
      client.send(new TransactWriteItemsCommand({ TransactItems: [put("r2")], ClientRequestToken: token })),
    ).rejects.toMatchObject({ name: "IdempotentParameterMismatchException" });
  });

  it("a transaction's work does not grow with the tokens held", async () => {
    const held = 300;
    for (let i = 0; i < held; i++) {
      // No ClientRequestToken given: the SDK makes one, as it does for the writer's appends.
      await client.send(new TransactWriteItemsCommand({ TransactItems: [put(`k${i}`)] }));
    }
    // Count the Map entries user-land code iterates while one more transaction runs (Node's own
    // internals iterate through primordials, not through this prototype).
    const mapIterator = Object.getPrototypeOf(new Map().entries()) as { next(): unknown };
    const next = vi.spyOn(mapIterator, "next");
    try {
      await client.send(new TransactWriteItemsCommand({ TransactItems: [put("last")] }));
      expect(next.mock.calls.length).toBeLessThan(held / 10);
    } finally {
      next.mockRestore();
    }
  });
});
