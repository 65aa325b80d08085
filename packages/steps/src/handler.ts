import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { loadStepsConfig } from "./config.js";
import { putResult } from "./put-result.js";
import {
  planWorkflow,
  sanitizeError,
  simulatedResult,
  stepRecordKey,
  TERMINAL_RECORD_KEY,
} from "./workflow.js";

const config = loadStepsConfig();
const logger = new Logger({ serviceName: "stepstream-steps" });

/** Events the state machine sends (the `Payload` of each lambda:invoke task). */
export type StepEvent =
  | { action: "plan"; executionArn: string; input: unknown; defaultStepWaitSeconds: number }
  | {
      action: "step";
      executionArn: string;
      index: number;
      final: boolean;
      stepDurationMs?: number;
      stepJitterMs?: number;
      failAt?: number;
    }
  | { action: "fail"; executionArn: string; error?: { Error?: unknown; Cause?: unknown } };

/** A deliberate failure of the simulated workflow (`failAt`). */
class SimulatedStepFailure extends Error {
  override readonly name = "SimulatedStepFailure";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The step Lambda. One function serves the three task states of the ASL: `plan` validates the
 * input, `step` produces one result (the last with `final`), `fail` writes the terminal error record
 * from a Catch.
 */
export async function handler(event: StepEvent, context?: Context): Promise<unknown> {
  logger.addContext(context ?? ({} as Context));
  logger.appendKeys({ executionArn: event.executionArn, action: event.action });
  try {
    switch (event.action) {
      case "plan":
        return planWorkflow(event.input, event.executionArn, event.defaultStepWaitSeconds, {
          ...(config.maxConcurrency === undefined ? {} : { maxConcurrency: config.maxConcurrency }),
        });
      case "step": {
        const work =
          (event.stepDurationMs ?? 0) + Math.floor(Math.random() * ((event.stepJitterMs ?? 0) + 1));
        if (work > 0) await sleep(work);
        if (event.index === event.failAt) {
          throw new SimulatedStepFailure(`step ${event.index} failed on purpose (failAt=${event.failAt})`);
        }
        const out = await putResult(
          {
            executionArn: event.executionArn,
            recordKey: stepRecordKey(event.index),
            result: simulatedResult(event.index),
            type: event.final ? "final" : "result",
          },
          config,
        );
        logger.info("result written", { index: event.index, offset: out.offset, duplicate: out.duplicate });
        return { index: event.index, ...out };
      }
      case "fail": {
        const error = sanitizeError(event.error);
        const type = error.Error === "States.Timeout" ? "timeout" : "error";
        try {
          const out = await putResult(
            { executionArn: event.executionArn, recordKey: TERMINAL_RECORD_KEY, type, error },
            config,
          );
          logger.info("terminal error written", {
            offset: out.offset,
            duplicate: out.duplicate,
            error: error.Error,
          });
          return out;
        } catch (err) {
          // The execution already ended (e.g. the final record won a race): nothing to add.
          if ((err as { code?: string }).code === "StreamClosed") return { closed: true };
          throw err;
        }
      }
      default:
        throw new Error(`unknown action ${JSON.stringify((event as { action?: unknown }).action)}`);
    }
  } finally {
    logger.resetKeys();
  }
}
