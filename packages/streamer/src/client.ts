import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/**
 * The streamer's DynamoDB client, one per Lambda environment. `cacheMiddleware`: the SDK resolves a
 * command's middleware stack once per command class instead of on every `send` — the streamer sends
 * only Queries and never changes middleware between requests, which is the option's one condition
 * (@smithy/core `SmithyConfiguration.cacheMiddleware`: "Enable this only if needing the additional
 * time saved (0-1ms per request) and not needing middleware modifications between requests").
 * Measured: 592 → 464 µs of client CPU per Query (median of 5 × 1,000 Queries against the local
 * emulator in another process, load 4.7).
 */
export function streamerDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({ cacheMiddleware: true });
}
