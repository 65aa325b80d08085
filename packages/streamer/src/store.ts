import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { type DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import {
  type CodecOptions,
  fromItem,
  isTerminalType,
  RECORD_TYPES,
  type RecordType,
  type ResultRecord,
  TABLE_SCHEMA,
} from "@stepstream/results-schema";

/**
 * One slot of the log: its sequence number and the record, or `null` where the record has expired
 * (or is invalid). `terminal` and `writtenAt` are read from the stored item even when the record is
 * not returned: an expired terminal record still closes the stream (closure is durable, Durable
 * Streams §4), and deadlines count from the last write whatever its content.
 */
export interface LogEntry {
  seq: number;
  record: ResultRecord | null;
  /** The stored item is a terminal record (`final`, `error`, `timeout`). Default: from `record`. */
  terminal?: boolean;
  /** When the stored item was written (epoch ms), if it says. */
  writtenAt?: number;
}

/** The last slot of an execution's log, expired or not. */
export interface LogHead {
  seq: number;
  terminal: boolean;
  writtenAt: number | undefined;
}

/** Read access to the results table. The streamer never writes. */
export interface ResultReader {
  /** Up to `limit` entries with `seq > afterSeq`, in order. */
  readAfter(executionArn: string, afterSeq: number, limit: number): Promise<LogEntry[]>;
  /** Sequence number of the last record, or -1 when the execution has none. */
  headSeq(executionArn: string): Promise<number>;
  /** The last slot (even expired), or `undefined` when the execution has none. */
  head?(executionArn: string): Promise<LogHead | undefined>;
}

/** Whether an entry closes the stream (its stored item is terminal, returned or not). */
export function isTerminalEntry(entry: LogEntry | undefined): boolean {
  if (!entry) return false;
  if (entry.terminal !== undefined) return entry.terminal;
  return entry.record ? isTerminalType(entry.record.Type) : false;
}

/** The log's head through `reader.head` when it has one, else from `headSeq` and one read. */
export async function headOf(reader: ResultReader, executionArn: string): Promise<LogHead | undefined> {
  if (reader.head) return reader.head(executionArn);
  const seq = await reader.headSeq(executionArn);
  if (seq < 0) return undefined;
  const [entry] = await reader.readAfter(executionArn, seq - 1, 1);
  const e = entry && entry.seq === seq ? entry : undefined;
  return { seq, terminal: isTerminalEntry(e), writtenAt: e ? writtenAtOfEntry(e) : undefined };
}

/** When an entry was written (epoch ms), if known. */
export function writtenAtOfEntry(entry: LogEntry): number | undefined {
  if (entry.writtenAt !== undefined) return entry.writtenAt;
  const r = entry.record as Record<string, unknown> | null;
  if (!r) return undefined;
  const w = typeof r.WrittenAt === "number" ? r.WrittenAt : r.ResultTimestamp;
  if (typeof w === "number") return w;
  if (typeof w === "string" && Number.isFinite(Date.parse(w))) return Date.parse(w);
  return undefined;
}

/** Type and write time straight from a stored item (no validation: metadata only). */
function metaOf(item: Record<string, AttributeValue>): { terminal: boolean; writtenAt: number | undefined } {
  const type = item.Type?.S;
  const terminal = RECORD_TYPES.includes(type as RecordType) && isTerminalType(type as RecordType);
  const n = item.WrittenAt?.N ?? item.ResultTimestamp?.N;
  const s = item.ResultTimestamp?.S;
  const writtenAt = n !== undefined ? Number(n) : s !== undefined ? Date.parse(s) : Number.NaN;
  return { terminal, writtenAt: Number.isFinite(writtenAt) ? writtenAt : undefined };
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
      const meta = metaOf(item);
      try {
        const stored = fromItem(item, nowSec, this.codec);
        return { seq, record: stored ? stored.record : null, ...meta };
      } catch (err) {
        // A record that fails the schema is never sent; its slot is passed over so the stream goes on.
        this.onInvalid?.(seq, err as Error);
        return { seq, record: null, ...meta };
      }
    });
  }

  async headSeq(executionArn: string): Promise<number> {
    return (await this.head(executionArn))?.seq ?? -1;
  }

  /** One Query, newest first, `Limit 1`: the last slot's sequence number, type and write time, expired or not. */
  async head(executionArn: string): Promise<LogHead | undefined> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: {
          "#pk": TABLE_SCHEMA.partitionKey,
          "#sk": TABLE_SCHEMA.sortKey,
          "#type": "Type",
          "#ts": "ResultTimestamp",
          "#wa": "WrittenAt",
        },
        ExpressionAttributeValues: { ":pk": { S: executionArn } },
        ProjectionExpression: "#sk, #type, #ts, #wa",
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const item = out.Items?.[0];
    return item ? { seq: Number(item[TABLE_SCHEMA.sortKey]?.N), ...metaOf(item) } : undefined;
  }
}
