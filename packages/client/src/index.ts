export type { ResultRecord, TerminalStatus } from "@stepstream/results-schema";
export {
  type ClientOptions,
  type ExecutionStream,
  type ResultsSnapshot,
  type StartedExecution,
  StepstreamClient,
  StepstreamClientError,
  type StreamOptions,
  type StreamOutcome,
} from "./client.js";
export { type CredentialSource, type Credentials, regionOf, signRequest } from "./sigv4.js";
