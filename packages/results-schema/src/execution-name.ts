import { StepstreamError } from "./errors.js";

/**
 * Execution names that carry their start time, so that a reader can tell an execution that was
 * just started (a stream that exists and is empty) from one that does not exist (`404`), before
 * the execution has written anything. Express executions cannot be described (`DescribeExecution`
 * does not support them), and the results table knows an execution only from its first record.
 *
 * The start API names every execution `ss-<start time, epoch ms, 13 digits>-<request id>`: on AWS
 * the API Gateway mapping template writes `$context.requestTimeEpoch` and `$context.requestId`
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html),
 * locally `apps/local/src/api.ts` calls {@link executionNameFor}. Step Functions allows names of 1–80
 * characters, and CloudWatch logging of an execution needs them to be only `0-9 A-Z a-z - _`
 * (StartExecution, `name`: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 * The prefix, the time and the separator take 17 characters, so the id keeps at most 63.
 */
export const EXECUTION_NAME_PREFIX = "ss-";
/** Longest execution name Step Functions accepts. */
export const MAX_EXECUTION_NAME_LENGTH = 80;
const MAX_ID_LENGTH = MAX_EXECUTION_NAME_LENGTH - EXECUTION_NAME_PREFIX.length - 14;
const NAME_RE = /^ss-(\d{13})-([A-Za-z0-9-]{0,63})$/;
/** Longest Express execution, in ms (Step Functions: Express workflows run for up to five minutes). */
export const EXPRESS_MAX_DURATION_MS = 5 * 60 * 1000;

/**
 * The execution name for an execution started at `startMs` (epoch ms), with `id` (a request id:
 * letters, digits and `-` are kept, anything else dropped, at most 63 kept) to make it unique.
 *
 * @example
 * ```ts
 * executionNameFor(1764625395123, "6f1c2a9e-0b7d-4d1e-9c3f-2a1b0c9d8e7f");
 * // "ss-1764625395123-6f1c2a9e-0b7d-4d1e-9c3f-2a1b0c9d8e7f"
 * ```
 */
export function executionNameFor(startMs: number, id: string): string {
  if (!Number.isSafeInteger(startMs) || startMs < 1e12 || startMs >= 1e13) {
    throw new StepstreamError(
      "BadRequest",
      `start time must be epoch milliseconds (13 digits), got ${startMs}`,
    );
  }
  const clean = id.replace(/[^A-Za-z0-9-]/g, "").slice(0, MAX_ID_LENGTH);
  return `${EXECUTION_NAME_PREFIX}${startMs}-${clean}`;
}

/**
 * The start time (epoch ms) an execution's name carries, or `undefined` for a name the start API
 * did not make. Takes an execution ARN (`…:express:<state machine>:<name>:<id>`) or a bare name.
 *
 * @example
 * ```ts
 * startTimeOfExecution("arn:aws:states:us-east-1:123456789012:express:sm:ss-1764625395123-ab:0f8e"); // 1764625395123
 * startTimeOfExecution("my-own-name"); // undefined
 * ```
 */
export function startTimeOfExecution(arnOrName: string): number | undefined {
  const parts = arnOrName.split(":");
  const name = parts.length >= 8 ? parts[7] : arnOrName;
  const m = name ? NAME_RE.exec(name) : null;
  return m ? Number(m[1]) : undefined;
}
