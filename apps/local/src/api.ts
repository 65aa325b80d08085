import type { IncomingMessage, ServerResponse } from "node:http";
import { type SFNClient, StartExecutionCommand, type StartExecutionCommandOutput } from "@aws-sdk/client-sfn";
import { StepstreamError } from "@stepstream/results-schema";
import { planWorkflow } from "@stepstream/steps";
import type { RequestContext } from "./front-end.js";
import { sendError, sendJson } from "./http.js";

/** Step Functions' limit on an execution's input. */
export const MAX_START_BODY_BYTES = 256 * 1024;
/**
 * Deepest nesting accepted in the workflow input. Step Functions documents no such limit, but
 * JSONPath processing of a 100 000-level array is a stack overflow waiting to happen; no real input
 * comes near this.
 */
export const MAX_INPUT_DEPTH = 64;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Nesting depth of a JSON value (iterative, so that it cannot overflow the stack itself). */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== "object") continue;
    if (d > max) max = d;
    if (max > MAX_INPUT_DEPTH) return max;
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, d + 1]);
  }
  return max;
}

/**
 * `startDate` as API Gateway's response mapping writes it: Step Functions answers `StartExecution`
 * with `startDate` as a JSON number of epoch seconds (awsJson1_0 timestamps), the mapping template
 * (`start-execution.response.vtl.tftpl`) quotes `$input.path('$.startDate')`, and VTL renders that
 * number as Java's `Double.toString` does: `1.764625995123E9`. A string, as in the AWS sample's
 * answer; `Number(startDate) * 1000` is the epoch ms.
 */
export function startDateText(date: Date): string {
  const seconds = date.getTime() / 1000;
  const abs = Math.abs(seconds);
  if (abs >= 1e-3 && abs < 1e7) return Number.isInteger(seconds) ? `${seconds}.0` : String(seconds);
  const [mantissa = "0", exponent = "0"] = seconds.toExponential().split("e");
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

export interface StartApiOptions {
  sfn: SFNClient;
  stateMachineArn: string;
  /** The Function URL (ends with `/`). */
  streamUrl: string;
  defaultStepWaitSeconds: number;
  /**
   * Check the body against the simulated workflow's plan (its parameters and bounds). Default true;
   * false when the stack runs your own workflow, whose input is yours.
   */
  simulatedWorkflow?: boolean;
}

/**
 * What API Gateway's `POST /` does on AWS: the body becomes the input of `StartExecution`, and the
 * answer is `{"workflow":{executionArn, lambdaResultURL, completeLambdaResultURL, startDate}}`.
 * Bad input is refused before anything starts (AWS: the API's request model), with the same rules.
 */
export function startApiHandler(o: StartApiOptions) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    ctx?: RequestContext,
  ): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/" && path !== "")
      return sendError(res, "NotFound", "no such resource; POST / starts a workflow");
    if (req.method !== "POST") {
      return sendError(
        res,
        "MethodNotAllowed",
        `method ${String(req.method).slice(0, 16)} is not allowed; POST / starts a workflow`,
        405,
        {
          allow: "POST, OPTIONS",
        },
      );
    }
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return sendError(res, "BadRequest", "the request body must be UTF-8 encoded JSON");
    }
    let input: unknown = {};
    if (text.trim() !== "") {
      try {
        input = JSON.parse(text);
      } catch {
        return sendError(res, "BadRequest", "the request body must be JSON (or empty)");
      }
    }
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      return sendError(res, "BadRequest", "the request body must be a JSON object (the workflow's input)");
    }
    if (depthOf(input) > MAX_INPUT_DEPTH) {
      return sendError(
        res,
        "BadRequest",
        `the workflow input is nested more than ${MAX_INPUT_DEPTH} levels deep`,
      );
    }
    try {
      if (o.simulatedWorkflow !== false)
        planWorkflow(
          input,
          "arn:aws:states:us-east-1:000000000000:express:validation:check:0",
          o.defaultStepWaitSeconds,
        );
    } catch (err) {
      if (err instanceof StepstreamError) return sendError(res, err.code, err.message);
      throw err;
    }
    let out: StartExecutionCommandOutput;
    try {
      out = await o.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: o.stateMachineArn,
          input: text.trim() === "" ? "{}" : text,
        }),
      );
    } catch (err) {
      const e = err as Error & { $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode ?? 0;
      if (ctx) ctx.logFields.error = `StartExecution: ${e.name}: ${e.message}`.slice(0, 300);
      // Step Functions refusing the input is the caller's to fix; anything else is ours (502, as
      // API Gateway answers when its integration fails).
      if (status >= 400 && status < 500) {
        return sendError(res, "BadRequest", `Step Functions refused the workflow input (${e.name})`);
      }
      return sendError(res, "Internal", "could not start the execution; see the local stack's log", 502);
    }
    const executionArn = out.executionArn as string;
    if (ctx) ctx.logFields.executionArn = executionArn;
    sendJson(res, 200, {
      workflow: {
        executionArn,
        lambdaResultURL: o.streamUrl,
        completeLambdaResultURL: `${o.streamUrl}?executionArn=${encodeURIComponent(executionArn)}`,
        startDate: startDateText(out.startDate ?? new Date()),
      },
    });
  };
}
