import type { StreamerSettings } from "@stepstream/local";
import type { LedgerSnapshot } from "./capacity.js";

/** How the harness asks for a stack child. */
export interface StackChildOptions {
  streamer: StreamerSettings;
  /** Account DynamoDB capacity at the front door (costs the stack some CPU; off for scale and replay). */
  accounting: boolean;
  /** The emulator served by dynamo-child.ts; unset: the stack runs its own, in its process. */
  dynamoEndpoint?: string;
}

/** What the stack child reports once it listens. */
export interface StackInfo {
  pid: number;
  streamUrl: string;
  apiEndpoint: string;
  dynamoEndpoint: string;
  tableName: string;
  stateMachineArn: string;
  region: string;
}

/** A point-in-time reading of the stack child. */
export interface StackSnapshot {
  /** Epoch ms in the child when taken. */
  at: number;
  /** Requests by operation counted by the local stack itself at the emulator's front door. */
  counts: Record<string, number>;
  ledger: LedgerSnapshot;
  /** Exchanges the ledger could not parse (should be 0). */
  ledgerFailures: number;
  rssBytes: number;
  /** User + system CPU time of the child, microseconds. */
  cpuMicros: number;
  /** Time the main thread waited for a CPU while runnable, µs since the process started (Linux only). */
  runQueueWaitMicros?: number;
  /** Event-loop delay since the previous snapshot (ms), `monitorEventLoopDelay` at 5 ms resolution. */
  loopDelayMs?: { p50: number; p99: number };
  /** The emulator's process, when it runs apart from the stack (whose figures are the ones above). */
  emulator?: {
    rssBytes: number;
    cpuMicros: number;
    runQueueWaitMicros?: number;
    loopDelayMs?: { p50: number; p99: number };
  };
}

export type ToChild =
  | { type: "snapshot"; id: number }
  | { type: "accounting"; enabled: boolean }
  | { type: "acks"; id: number; group: string }
  | { type: "profile-start"; id: number }
  | { type: "profile-stop"; id: number; file: string }
  | { type: "close" };

export type FromChild =
  | { type: "ready"; info: StackInfo }
  | { type: "emulator-ready"; pid: number; endpoint: string }
  | { type: "snapshot"; id: number; snapshot: StackSnapshot }
  | { type: "done"; id: number; error?: string }
  | { type: "acks"; id: number; acks: [string, number][] }
  | { type: "error"; message: string };
