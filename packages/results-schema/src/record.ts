import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import * as z from "zod/mini";
import { parseExecutionArn } from "./arn.js";
import { StepstreamError } from "./errors.js";
import { BEGINNING_OFFSET, encodeOffset, offsetAfter } from "./offset.js";
import { described } from "./zod.js";

// In a browser, validate without zod's JIT: deciding whether it may JIT, zod probes `new Function`,
// which a Content-Security-Policy without 'unsafe-eval' reports as a violation on every page load
// (the web view's own CSP did), although zod catches the error. Set before any schema is built: zod
// reads the setting when a schema is constructed. Node (the Lambdas, the CLI) keeps the JIT.
if (typeof window !== "undefined" && typeof document !== "undefined") z.config({ jitless: true });

/** Names of the results table's keys and attributes. Terraform's table module uses the same names. */
export const TABLE_SCHEMA = {
  /** Partition key (S): the execution ARN. */
  partitionKey: "ExecutionArn",
  /** Sort key (N): the record's dense sequence number; its string form is the offset. */
  sortKey: "Seq",
  /** Local secondary index on `RecordKey`, used by writers to make appends idempotent. */
  recordKeyIndex: "ByRecordKey",
  /** Idempotency key attribute (S), the sort key of `ByRecordKey`. */
  recordKeyAttribute: "RecordKey",
  /** TTL attribute (N, epoch seconds). */
  ttlAttribute: "ExpiresAt",
  /**
   * Key items: one per record, partition key `key#<executionArn>#<recordKey>` (no execution ARN starts
   * with `key#`, so readers never meet one), `Seq` 0, written in the same transaction as the record.
   */
  keyItemPrefix: "key#",
  /** Attribute of a key item (N): the `Seq` of the record that holds its key. */
  keyItemSeqAttribute: "RecordSeq",
  /**
   * Attribute of a key item written by a combiner (N): the stage id of the staged item whose record it
   * holds, so the writer that staged it can tell "appended for me" from "my key existed already".
   */
  keyItemStagedByAttribute: "StagedBy",
  /**
   * Staging partition of an execution: `stage#<executionArn>` (no execution ARN starts with `stage#`,
   * so readers never meet one). A writer that lost the race for the next slot puts its record there,
   * sort key `Seq` = a unique, roughly time-ordered stage id; a combiner appends staged records in
   * stage-id order and deletes them in the same transaction.
   */
  stagePrefix: "stage#",
  /** Attribute of a staged item (S): its record's key (not `RecordKey`: staged items stay out of `ByRecordKey`). */
  stagedKeyAttribute: "StagedKey",
  /** Attribute of a staged item (N): the stage id of the record before it in one `putResults` call. */
  stagePrevAttribute: "StagePrev",
} as const;

/** Record types. `final`, `error` and `timeout` are terminal: exactly one ends every execution. */
export const RECORD_TYPES = ["result", "final", "error", "timeout"] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
export type TerminalType = Exclude<RecordType, "result">;

/** How an execution ended, as clients see it. */
export type TerminalStatus = "succeeded" | "failed" | "timedOut";
const STATUS_OF: Record<TerminalType, TerminalStatus> = {
  final: "succeeded",
  error: "failed",
  timeout: "timedOut",
};

/** True for the record types that end an execution's stream. */
export function isTerminalType(type: RecordType): type is TerminalType {
  return type !== "result";
}

/** The terminal status a record type stands for, or `undefined` for data records. */
export function terminalStatusOf(type: RecordType): TerminalStatus | undefined {
  return type === "result" ? undefined : STATUS_OF[type];
}

/** Default name of the flag on the last record (the AWS sample's name). */
export const DEFAULT_FINAL_RESULT_FIELD = "FinalResult";

/** `2026-12-01T21:33:15.123Z`: what `Date.prototype.toISOString` writes for years 0000-9999. */
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A record's two time fields for a write at `ms` (epoch milliseconds): `ResultTimestamp`, the ISO-8601
 * string the AWS sample's records carry (`$$.State.EnteredTime`), and `WrittenAt`, the same instant as
 * integer epoch ms, for anything that computes with time (deadlines, latency).
 *
 * @example
 * writeTime(Date.UTC(2026, 11, 1, 21, 33, 15, 123));
 * // → { ResultTimestamp: "2026-12-01T21:33:15.123Z", WrittenAt: 1796160795123 }
 */
export function writeTime(ms: number): { ResultTimestamp: string; WrittenAt: number } {
  const at = Math.trunc(ms);
  return { ResultTimestamp: new Date(at).toISOString(), WrittenAt: at };
}

/**
 * The same two fields as DynamoDB attributes (`ResultTimestamp` S, `WrittenAt` N), for a writer that
 * stamps an item just before its put.
 */
export function writeTimeAttributes(ms: number): {
  ResultTimestamp: AttributeValue;
  WrittenAt: AttributeValue;
} {
  const t = writeTime(ms);
  return { ResultTimestamp: { S: t.ResultTimestamp }, WrittenAt: { N: String(t.WrittenAt) } };
}

/** Largest DynamoDB item, in bytes. */
export const MAX_ITEM_BYTES = 400 * 1024;

const executionArn = z.string().check(
  z.refine(
    (s) => {
      try {
        parseExecutionArn(s);
        return true;
      } catch {
        return false;
      }
    },
    { message: "not a Step Functions execution ARN" },
  ),
);

/** Error details carried by an `error` or `timeout` record (the shape of a Step Functions Catch). */
export const RecordErrorSchema = z.object({
  Error: z.string().check(z.maxLength(256)),
  Cause: z.string().check(z.maxLength(32768)),
});

/**
 * One line of a stream: what a step wrote, as readers receive it. The single definition from which
 * the TypeScript type, runtime validation and the exported JSON Schema (`record.schema.json`) derive.
 *
 * Written with zod's mini build (`zod/mini`): the same validation, messages and JSON Schema as the
 * classic API, at a fraction of the bundle size and import time (see the README's benchmark).
 */
export const ResultRecordSchema = z.looseObject({
  ExecutionArn: described(executionArn, "The execution this record belongs to."),
  Offset: described(
    z.string().check(z.regex(/^(\d{16}|-000000000000001)$/)),
    `Opaque, lexicographically sortable position of the record in its execution's log (${BEGINNING_OFFSET}, before the first record, only on a synthetic record of an execution that wrote nothing).`,
  ),
  Type: described(z.enum(RECORD_TYPES), "result, or one of the terminal types final | error | timeout."),
  RecordKey: described(
    z.string().check(z.minLength(1), z.maxLength(256)),
    "Idempotency key: one record per key and execution.",
  ),
  Result: described(z.unknown(), "The step's result: any JSON value."),
  ResultTimestamp: described(
    z.string().check(z.regex(ISO_MS)),
    "When the record was written: ISO-8601 UTC with milliseconds, the shape of $$.State.EnteredTime (the AWS sample's field).",
  ),
  WrittenAt: described(
    z.number().check(z.int(), z.nonnegative()),
    "When the record was written, epoch milliseconds (the same instant as ResultTimestamp).",
  ),
  Error: described(z.optional(RecordErrorSchema), "Present on error and timeout records."),
  Synthetic: described(
    z.optional(z.literal(true)),
    "Set on a timeout record made by the reader because the execution wrote nothing in time.",
  ),
});
export type ResultRecord = z.infer<typeof ResultRecordSchema> & { Result: unknown };

/** JSON Schema (draft 2020-12) of a stream record, from `ResultRecordSchema`. */
export function recordJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ResultRecordSchema, { unrepresentable: "any" }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://stepstream.dev/schemas/record.schema.json",
    title: "stepstream result record",
    description: `One JSON Lines record. The terminal record of every execution (final, error or timeout) also carries "${DEFAULT_FINAL_RESULT_FIELD}": true (the field name is configurable); Type tells how it ended.`,
  };
}

/**
 * Validates an object as a stream record (the client and the streamer call this on every record).
 * Throws `InvalidRecord` with the first problem found.
 */
export function parseRecord(value: unknown): ResultRecord {
  const r = ResultRecordSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new StepstreamError(
      "InvalidRecord",
      `invalid record: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "unknown"}`,
    );
  }
  return r.data as ResultRecord;
}

/** What a writer supplies; the store adds `Seq`, the timestamp and the expiry. */
export interface NewRecord {
  executionArn: string;
  recordKey: string;
  type: RecordType;
  result?: unknown;
  error?: { Error: string; Cause: string };
}

/** A record as stored: the stream record plus its sequence number and expiry. */
export interface StoredRecord {
  seq: number;
  expiresAt: number;
  record: ResultRecord;
}

export interface CodecOptions {
  /**
   * Name of the `true` flag on a terminal record (`final`, `error`, `timeout`). Default `FinalResult`.
   * The AWS sample's reader ends a stream when this field is present, so every terminal record
   * carries it; `Type` says whether the run succeeded.
   */
  finalResultField?: string;
}

/**
 * Checks that a value survives a JSON round trip unchanged in kind (no functions, symbols, bigints,
 * cycles, NaN or Infinity), or throws `InvalidRecord`.
 */
export function assertJsonValue(value: unknown, path = "Result"): void {
  const seen = new Set<object>();
  const visit = (v: unknown, p: string): void => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return;
    if (typeof v === "number") {
      if (!Number.isFinite(v))
        throw new StepstreamError("InvalidRecord", `${p} is ${v}, which JSON cannot carry`);
      return;
    }
    if (typeof v !== "object") {
      throw new StepstreamError("InvalidRecord", `${p} is a ${typeof v}, which JSON cannot carry`);
    }
    if (seen.has(v)) throw new StepstreamError("InvalidRecord", `${p} contains a cycle`);
    seen.add(v);
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) visit(x, `${p}[${i}]`);
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new StepstreamError(
          "InvalidRecord",
          `${p} is a ${proto?.constructor?.name ?? "non-plain"} object`,
        );
      }
      for (const [k, x] of Object.entries(v)) visit(x, `${p}.${k}`);
    }
    seen.delete(v);
  };
  visit(value, path);
}

/** DynamoDB's size of an attribute value in bytes (the rules AWS documents for item size). */
function sizeOf(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-/, "").replace(/^0+/, "").length / 2) + 1;
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.L !== undefined) return 3 + v.L.reduce((n, x) => n + 1 + sizeOf(x), 0);
  if (v.M !== undefined) return 3 + itemSize(v.M as Record<string, AttributeValue>) + Object.keys(v.M).length;
  if (v.SS !== undefined) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (v.NS !== undefined) return v.NS.reduce((n, s) => n + Math.ceil(s.length / 2) + 1, 0);
  if (v.BS !== undefined) return v.BS.reduce((n, b) => n + b.byteLength, 0);
  return 0;
}

/** DynamoDB's size of an item in bytes: attribute names plus values. */
export function itemSize(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += Buffer.byteLength(k) + sizeOf(v);
  return n;
}

/**
 * Builds the DynamoDB item for a record at `seq`. Validates the record and its size first, so nothing
 * invalid or oversized is ever sent to the table.
 */
export function toItem(
  input: NewRecord & { seq: number; timestamp: number; expiresAt: number },
  options: CodecOptions = {},
): Record<string, AttributeValue> {
  const finalField = options.finalResultField ?? DEFAULT_FINAL_RESULT_FIELD;
  parseExecutionArn(input.executionArn);
  if (typeof input.recordKey !== "string" || input.recordKey.length < 1 || input.recordKey.length > 256) {
    throw new StepstreamError("InvalidRecord", "recordKey must be a string of 1 to 256 characters");
  }
  if (!RECORD_TYPES.includes(input.type)) {
    throw new StepstreamError("InvalidRecord", `type must be one of ${RECORD_TYPES.join(", ")}`);
  }
  assertJsonValue(input.result ?? null);
  const plain: Record<string, unknown> = {
    [TABLE_SCHEMA.partitionKey]: input.executionArn,
    [TABLE_SCHEMA.sortKey]: input.seq,
    [TABLE_SCHEMA.recordKeyAttribute]: input.recordKey,
    Type: input.type,
    Result: input.result ?? null,
    ...writeTime(input.timestamp),
    [TABLE_SCHEMA.ttlAttribute]: input.expiresAt,
  };
  if (input.error) plain.Error = RecordErrorSchema.parse(input.error);
  if (isTerminalType(input.type)) plain[finalField] = true;
  const item = marshall(plain, { removeUndefinedValues: true }) as unknown as Record<string, AttributeValue>;
  const size = itemSize(item);
  if (size > MAX_ITEM_BYTES) {
    throw new StepstreamError(
      "RecordTooLarge",
      `record is ${size} bytes; DynamoDB items are limited to ${MAX_ITEM_BYTES} bytes (store large results elsewhere, e.g. S3, and write a reference)`,
    );
  }
  return item;
}

/**
 * Turns a DynamoDB item into a stored record, validating it. Returns `null` for an item whose TTL has
 * passed (DynamoDB deletes expired items only eventually; readers must never return them).
 */
export function fromItem(
  item: Record<string, AttributeValue>,
  nowEpochSeconds: number,
  options: CodecOptions = {},
): StoredRecord | null {
  const finalField = options.finalResultField ?? DEFAULT_FINAL_RESULT_FIELD;
  const plain = unmarshall(item) as Record<string, unknown>;
  const expiresAt = Number(plain[TABLE_SCHEMA.ttlAttribute]);
  if (Number.isFinite(expiresAt) && expiresAt > 0 && expiresAt <= nowEpochSeconds) return null;
  const seq = Number(plain[TABLE_SCHEMA.sortKey]);
  const record: Record<string, unknown> = {
    ExecutionArn: plain[TABLE_SCHEMA.partitionKey],
    Offset: Number.isSafeInteger(seq) && seq >= 0 ? encodeOffset(seq) : String(plain[TABLE_SCHEMA.sortKey]),
    Type: plain.Type,
    RecordKey: plain[TABLE_SCHEMA.recordKeyAttribute],
    Result: plain.Result ?? null,
    ...storedWriteTime(plain),
  };
  if (plain.Error !== undefined) record.Error = plain.Error;
  if (typeof plain.Type === "string" && plain.Type !== "result") record[finalField] = true;
  return { seq, expiresAt, record: parseRecord(record) };
}

/**
 * The time fields of a stored item. Items written before `WrittenAt` existed carry `ResultTimestamp`
 * as epoch ms (N): both fields are derived from it, so an old table still reads.
 */
function storedWriteTime(plain: Record<string, unknown>): Record<string, unknown> {
  if (typeof plain.WrittenAt === "number") {
    return {
      WrittenAt: plain.WrittenAt,
      ResultTimestamp:
        typeof plain.ResultTimestamp === "string"
          ? plain.ResultTimestamp
          : writeTime(plain.WrittenAt).ResultTimestamp,
    };
  }
  if (typeof plain.ResultTimestamp === "number") return writeTime(plain.ResultTimestamp);
  return { ResultTimestamp: plain.ResultTimestamp, WrittenAt: plain.WrittenAt };
}

/**
 * A reader-made timeout record: emitted (never stored) when an execution wrote no terminal record
 * before the reader's deadline. Its offset is the reader's position (the offset of the last record
 * stored, or {@link BEGINNING_OFFSET} when there is none), so a resume from it skips nothing.
 */
export function syntheticTimeout(
  executionArn: string,
  afterSeq: number,
  waitedMs: number,
  options: CodecOptions = {},
): ResultRecord {
  return {
    ExecutionArn: executionArn,
    Offset: offsetAfter(afterSeq),
    Type: "timeout",
    RecordKey: "$timeout",
    Result: null,
    ...writeTime(Date.now()),
    [options.finalResultField ?? DEFAULT_FINAL_RESULT_FIELD]: true,
    Error: {
      Error: "StreamTimeout",
      Cause: `no terminal record within ${Math.round(waitedMs / 1000)} s (stream_timeout_seconds); the execution may still be running or may have been lost`,
    },
    Synthetic: true,
  };
}
