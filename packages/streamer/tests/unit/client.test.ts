import { Readable } from "node:stream";
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { streamerDynamoClient } from "../../src/client.js";

describe("the streamer's DynamoDB client", () => {
  it("resolves each command's middleware once, not on every Query", async () => {
    // Prepare: a client (configured as on Lambda, from the environment) whose requests never leave
    // the process.
    const env = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "k",
      AWS_SECRET_ACCESS_KEY: "s",
    });
    const client = streamerDynamoClient();
    let resolved = 0;
    const original = QueryCommand.prototype.resolveMiddleware;
    QueryCommand.prototype.resolveMiddleware = function (...args) {
      resolved++;
      return original.apply(this, args);
    };
    client.config.requestHandler = {
      handle: async () => ({
        response: {
          statusCode: 200,
          headers: {},
          body: Readable.from([Buffer.from('{"Items":[],"Count":0}')]),
        },
      }),
    } as never;
    try {
      // Act
      for (let i = 0; i < 3; i++)
        await client.send(new QueryCommand({ TableName: "t-results", KeyConditionExpression: "a = :a" }));
      // Assess
      expect(client.config.cacheMiddleware).toBe(true);
      expect(resolved).toBe(1);
    } finally {
      QueryCommand.prototype.resolveMiddleware = original;
      client.destroy();
      process.env = env;
    }
  });
});
