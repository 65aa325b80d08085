import { type DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import { type CodecOptions, fromItem, type ResultRecord, TABLE_SCHEMA } from "@stepstream/results-schema";

/** One slot of the log: its sequence number and the record, or `null` where the record has expired. */
export interface LogEntry {
  seq: number;
  record: ResultRecord | null;
}

/** Read access to the results table. The streamer never writes. */
export interface ResultReader {
  /** Up to `limit` entries with `seq > afterSeq`, in order. */
  readAfter(executionArn: string, afterSeq: number, limit: number): Promise<LogEntry[]>;
  /** Sequence number of the last record, or -1 when the execution has none. */
  headSeq(executionArn: string): Promise<number>;
}

/**
 * A `ResultReader` over DynamoDB: one `Query` on the table's key per call, reading only records past
 * the reader's position (so a poll's read cost never grows with what was already delivered).
 */
export class DynamoResultReader implements ResultReader {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly codec: CodecOptions = {},
    private readonly now: () => number = Date.now,
    private readonly onInvalid?: (seq: number, err: Error) => void,
  ) {}

  async readAfter(executionArn: string, afterSeq: number, limit: number): Promise<LogEntry[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "#pk = :pk AND #sk > :sk",
        ExpressionAttributeNames: { "#pk": TABLE_SCHEMA.partitionKey, "#sk": TABLE_SCHEMA.sortKey },
        ExpressionAttributeValues: { ":pk": { S: executionArn }, ":sk": { N: String(afterSeq) } },
        Limit: limit,
      }),
    );
    const nowSec = Math.floor(this.now() / 1000);
    return (out.Items ?? []).map((item) => {
      const seq = Number(item[TABLE_SCHEMA.sortKey]?.N);
      try {
        const stored = fromItem(item, nowSec, this.codec);
        return { seq, record: stored ? stored.record : null };
      } catch (err) {
        // A record that fails the schema is never sent; its slot is passed over so the stream goes on.
        this.onInvalid?.(seq, err as Error);
        return { seq, record: null };
      }
    });
  }

  async headSeq(executionArn: string): Promise<number> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": TABLE_SCHEMA.partitionKey, "#sk": TABLE_SCHEMA.sortKey },
        ExpressionAttributeValues: { ":pk": { S: executionArn } },
        ProjectionExpression: "#sk",
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const item = out.Items?.[0];
    return item ? Number(item[TABLE_SCHEMA.sortKey]?.N) : -1;
  }
}
