import type { IncomingMessage, ServerResponse } from "node:http";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { StepstreamError } from "@stepstream/results-schema";
import { planWorkflow } from "@stepstream/steps";
import { sendError, sendJson } from "./http.js";

/** Step Functions' limit on an execution's input. */
export const MAX_START_BODY_BYTES = 256 * 1024;

export interface StartApiOptions {
  sfn: SFNClient;
  stateMachineArn: string;
  /** The Function URL (ends with `/`). */
  streamUrl: string;
  defaultStepWaitSeconds: number;
}

/**
 * What API Gateway's `POST /` does on AWS: the body becomes the input of `StartExecution`, and the
 * answer is `{"workflow":{executionArn, lambdaResultURL, completeLambdaResultURL, startDate}}`.
 * Bad input is refused before anything starts (AWS: the API's request model), with the same rules.
 */
export function startApiHandler(o: StartApiOptions) {
  return async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/" && path !== "") return sendError(res, "NotFound", "no such resource; POST / starts a workflow");
    if (req.method !== "POST") {
      return sendError(res, "MethodNotAllowed", `method ${String(req.method).slice(0, 16)} is not allowed; POST / starts a workflow`, 405, {
        allow: "POST, OPTIONS",
      });
    }
    const text = body.toString("utf8");
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
    try {
      planWorkflow(input, "arn:aws:states:us-east-1:000000000000:express:validation:check:0", o.defaultStepWaitSeconds);
    } catch (err) {
      if (err instanceof StepstreamError) return sendError(res, err.code, err.message);
      throw err;
    }
    const out = await o.sfn.send(
      new StartExecutionCommand({ stateMachineArn: o.stateMachineArn, input: text.trim() === "" ? "{}" : text }),
    );
    const executionArn = out.executionArn as string;
    sendJson(res, 200, {
      workflow: {
        executionArn,
        lambdaResultURL: o.streamUrl,
        completeLambdaResultURL: `${o.streamUrl}?executionArn=${encodeURIComponent(executionArn)}`,
        startDate: out.startDate ? out.startDate.getTime() / 1000 : Date.now() / 1000,
      },
    });
  };
}
