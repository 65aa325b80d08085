import { encodeOffset, type RecordType, type ResultRecord, writeTime } from "@stepstream/results-schema";
import type { ResponseSink } from "../../src/sink.js";
import type { LogEntry, ResultReader } from "../../src/store.js";

export const ARN =
  "arn:aws:states:us-east-1:123456789012:express:stepstream:run-1:0f8e2b7c-1d2e-4c5f-9a8b-7c6d5e4f3a2b";
export const STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:stepstream";

export function record(seq: number, type: RecordType = "result", arn = ARN): ResultRecord {
  return {
    ExecutionArn: arn,
    Offset: encodeOffset(seq),
    Type: type,
    RecordKey: `result-${seq}`,
    Result: `This is simulated result ${seq}`,
    ...writeTime(Date.now()),
    ...(type === "result" ? {} : { FinalResult: true }),
  };
}

/** An in-memory log: `entries` may be appended to (or have holes) while a reader follows it. */
export class MemoryReader implements ResultReader {
  readonly entries: LogEntry[] = [];
  reads = 0;
  add(seq: number, type: RecordType = "result", rec: ResultRecord | null = record(seq, type)): void {
    this.entries.push({ seq, record: rec });
    this.entries.sort((a, b) => a.seq - b.seq);
  }
  async readAfter(_arn: string, afterSeq: number, limit: number): Promise<LogEntry[]> {
    this.reads++;
    return this.entries.filter((e) => e.seq > afterSeq).slice(0, limit);
  }
  async headSeq(): Promise<number> {
    return this.entries.at(-1)?.seq ?? -1;
  }
}

export class RecordingSink implements ResponseSink {
  status?: number;
  headers: Record<string, string> = {};
  chunks: string[] = [];
  ended = false;
  open(statusCode: number, headers: Record<string, string>): void {
    if (this.status !== undefined) throw new Error("opened twice");
    this.status = statusCode;
    this.headers = headers;
  }
  async write(chunk: string): Promise<void> {
    if (this.status === undefined) throw new Error("write before open");
    this.chunks.push(chunk);
  }
  async end(): Promise<void> {
    this.ended = true;
  }
  get body(): string {
    return this.chunks.join("");
  }
  lines(): unknown[] {
    return this.body
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
  }
}

/** A clock that only moves when the code under test sleeps. */
export function fakeClock(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}
