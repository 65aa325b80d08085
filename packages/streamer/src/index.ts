export { loadStreamerConfig, type StreamerConfig } from "./config.js";
export { type EndReason, type FollowEvent, type FollowOptions, follow } from "./follow.js";
export { serveJsonl } from "./jsonl.js";
export {
  type FunctionUrlEvent,
  LIVE_MODES,
  type LiveMode,
  parseStreamRequest,
  type StreamRequest,
} from "./request.js";
export { type ServeOutcome, serve } from "./serve.js";
export type { ResponseSink } from "./sink.js";
export { DynamoResultReader, type LogEntry, type ResultReader } from "./store.js";
