import { described, StepstreamError } from "@stepstream/results-schema";
import * as z from "zod/mini";

/** Bounds of the simulated workflow's input. Express workflows run at most 5 minutes. */
export const WORKFLOW_LIMITS = {
  maxCount: 1000,
  maxConcurrency: 40,
  maxStepWaitSeconds: 60,
  maxStepDurationMs: 60_000,
  maxRunSeconds: 280,
} as const;

const int = (min: number, max: number) => z.number().check(z.int(), z.minimum(min), z.maximum(max));
/** An optional bounded integer field, with its description. */
const optionalInt = (min: number, max: number, description: string) =>
  described(z.optional(int(min, max)), description);

/**
 * The simulated workflow's input, bounded: exactly what the start API's request model
 * (`infra/modules/start-api/templates/workflow-input.schema.json`) accepts, unknown fields refused
 * as there. The Plan step checks it again (an execution can be started without the API) and adds
 * what a JSON Schema cannot say: `failAt` below `count`, the run within Express's 5 minutes, and
 * `concurrency` within the step function's reserved concurrency.
 */
export const WorkflowInputSchema = z.strictObject({
  count: optionalInt(1, WORKFLOW_LIMITS.maxCount, "Number of results (default 5)."),
  concurrency: optionalInt(1, WORKFLOW_LIMITS.maxConcurrency, "Map concurrency (default 1)."),
  stepWaitSeconds: optionalInt(
    0,
    WORKFLOW_LIMITS.maxStepWaitSeconds,
    "Wait state before each step, seconds (default: step_wait_seconds).",
  ),
  stepDurationMs: optionalInt(0, WORKFLOW_LIMITS.maxStepDurationMs, "Work time inside each step."),
  stepJitterMs: optionalInt(
    0,
    WORKFLOW_LIMITS.maxStepDurationMs,
    "Random extra work time per step, 0..stepJitterMs.",
  ),
  failAt: optionalInt(0, WORKFLOW_LIMITS.maxCount - 1, "Index of a step that fails on purpose."),
});
export type WorkflowInput = z.infer<typeof WorkflowInputSchema>;

/** What the Plan state returns and the rest of the state machine reads. */
export interface WorkflowPlan {
  executionArn: string;
  items: number[];
  count: number;
  lastIndex: number;
  concurrency: number;
  waitSeconds: number;
  stepDurationMs: number;
  stepJitterMs: number;
  /** -1 when no step fails on purpose. */
  failAt: number;
}

/**
 * Validates the execution input and plans the run, or throws `BadRequest` with the first problem.
 * `input` may be anything JSON: `null`/`{}` mean "all defaults".
 *
 * @example
 * ```ts
 * planWorkflow({ count: 3 }, arn, 7).items; // [0, 1, 2]
 * ```
 */
export function planWorkflow(
  input: unknown,
  executionArn: string,
  defaultWaitSeconds: number,
  limits: { maxConcurrency?: number } = {},
): WorkflowPlan {
  const parsed = WorkflowInputSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StepstreamError(
      "BadRequest",
      `invalid workflow input: ${issue ? `${issue.path.join(".") || "(input)"}: ${issue.message}` : "unknown"}`,
    );
  }
  const i = parsed.data;
  const count = i.count ?? 5;
  const concurrency = i.concurrency ?? 1;
  // The Wait state takes whole seconds; a fractional default (the local stack's
  // STEPSTREAM_STEP_WAIT_MS) keeps its whole seconds there and its remainder as step work time.
  const defaultWait = Math.max(0, defaultWaitSeconds);
  const waitSeconds = i.stepWaitSeconds ?? Math.floor(defaultWait);
  const remainderMs =
    i.stepWaitSeconds === undefined ? Math.round((defaultWait - Math.floor(defaultWait)) * 1000) : 0;
  const stepDurationMs = (i.stepDurationMs ?? 0) + remainderMs;
  const stepJitterMs = i.stepJitterMs ?? 0;
  const failAt = i.failAt ?? -1;
  // More Map iterations at once than the step function may run would be throttled
  // (Lambda.TooManyRequestsException) until the Retry gives up: refuse them here, in the plan.
  if (limits.maxConcurrency !== undefined && concurrency > limits.maxConcurrency) {
    throw new StepstreamError(
      "BadRequest",
      `invalid workflow input: concurrency ${concurrency} is above the step function's reserved concurrency (${limits.maxConcurrency})`,
    );
  }
  if (failAt >= count) {
    throw new StepstreamError("BadRequest", `invalid workflow input: failAt must be below count (${count})`);
  }
  const rounds = Math.ceil(count / concurrency);
  const estimatedSeconds = rounds * (waitSeconds + (stepDurationMs + stepJitterMs) / 1000);
  if (estimatedSeconds > WORKFLOW_LIMITS.maxRunSeconds) {
    throw new StepstreamError(
      "BadRequest",
      `invalid workflow input: the run would take about ${Math.round(estimatedSeconds)} s; Express workflows end at 300 s (keep it under ${WORKFLOW_LIMITS.maxRunSeconds} s: fewer results, more concurrency or shorter steps)`,
    );
  }
  return {
    executionArn,
    items: Array.from({ length: count }, (_, k) => k),
    count,
    lastIndex: count - 1,
    concurrency,
    waitSeconds,
    stepDurationMs,
    stepJitterMs,
    failAt,
  };
}

/** The result text of step `index`, as the AWS sample produced it. */
export function simulatedResult(index: number): string {
  return `This is simulated result ${index}`;
}

/** Record key of step `index`: the same on every retry of that step. */
export function stepRecordKey(index: number): string {
  return `result-${index}`;
}

/** Key shared by every terminal record a Catch writes: at most one can exist. */
export const TERMINAL_RECORD_KEY = "$terminal";

/**
 * Turns a Step Functions Catch output into the error a client may see: the error name and the
 * message, never a stack trace.
 */
export function sanitizeError(error: { Error?: unknown; Cause?: unknown } | undefined): {
  Error: string;
  Cause: string;
} {
  const name = typeof error?.Error === "string" && error.Error ? error.Error.slice(0, 256) : "States.Error";
  let cause = typeof error?.Cause === "string" ? error.Cause : "";
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed === "object" && typeof parsed.errorMessage === "string")
      cause = parsed.errorMessage;
  } catch {
    // Not JSON: a plain message.
  }
  cause = cause.replace(/\n\s+at .*/g, "").slice(0, 4096);
  return { Error: name, Cause: cause || name };
}
