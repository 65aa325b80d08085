import { type AttributeValue, QueryCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { fromItem, isTerminalType, TABLE_SCHEMA } from "@stepstream/results-schema";

/**
 * The AWS sample's streaming algorithm ("Asynchronous Notifications using a Streaming Lambda Function
 * URL"), as the baseline we measure against. Bench only: never shipped.
 *
 * Loop until the final result: a strongly consistent `Query` of the execution's whole partition with
 * `FilterExpression attribute_not_exists(Streamed)`; for each item returned, write it to the response
 * and mark it `SET Streamed = true` with an `UpdateItem`; stop after the final result; then sleep a
 * fixed interval (2 s in the sample, `DDBPollingWaitMs`) — also after the last round, as the sample
 * does. Its only adaptation here: each line is written in stepstream's record shape (the same JSON the
 * streamer sends), so one client parses both readers' lines the same way.
 */
export interface SampleReaderOptions {
  client: { send(command: QueryCommand | UpdateItemCommand): Promise<unknown> };
  tableName: string;
  executionArn: string;
  /** Fixed wait between polls (the sample's `DDBPollingWaitMs`: 2000). */
  pollMs: number;
  /** Writes one line to the response. */
  write(line: string): void;
  /** Stops the loop (the sample stops near the Lambda deadline). */
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** Runs the sample's loop for one execution; resolves with the number of records written. */
export async function sampleStream(o: SampleReaderOptions): Promise<number> {
  const sleep = o.sleep ?? defaultSleep;
  let finished = false;
  let delivered = 0;
  while (!finished && !o.signal?.aborted) {
    const out = (await o.client.send(
      new QueryCommand({
        TableName: o.tableName,
        KeyConditionExpression: `${TABLE_SCHEMA.partitionKey} = :ExecutionArn`,
        FilterExpression: "attribute_not_exists(Streamed)",
        ExpressionAttributeValues: { ":ExecutionArn": { S: o.executionArn } },
        ConsistentRead: true,
      }),
    )) as { Items?: Record<string, AttributeValue>[] };
    for (const item of out.Items ?? []) {
      const stored = fromItem(item, Math.floor(Date.now() / 1000));
      if (stored) o.write(`${JSON.stringify(stored.record)}\n`);
      delivered++;
      await o.client.send(
        new UpdateItemCommand({
          TableName: o.tableName,
          Key: {
            [TABLE_SCHEMA.partitionKey]: item[TABLE_SCHEMA.partitionKey] as AttributeValue,
            [TABLE_SCHEMA.sortKey]: item[TABLE_SCHEMA.sortKey] as AttributeValue,
          },
          UpdateExpression: "set Streamed = :streamed",
          ExpressionAttributeValues: { ":streamed": { BOOL: true } },
          ReturnValues: "NONE",
        }),
      );
      if (stored && isTerminalType(stored.record.Type)) {
        finished = true;
        break;
      }
    }
    await sleep(o.pollMs, o.signal);
  }
  return delivered;
}
