import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type SFNClient, StartExecutionCommand, type StartExecutionCommandOutput } from "@aws-sdk/client-sfn";
import { OWN_WORKFLOW_REQUEST_MODEL_PATH } from "./assets.js";
import type { RequestContext } from "./front-end.js";
import { sendError, sendJson } from "./http.js";
import {
  answerForStartError,
  compileRequestModel,
  type JsonSchema,
  loadRequestModel,
  type RequestModel,
} from "./request-model.js";

/** Step Functions' limit on an execution's input. */
export const MAX_START_BODY_BYTES = 256 * 1024;

/**
 * The message of the start API's UNSUPPORTED_MEDIA_TYPE gateway response (infra/modules/start-api),
 * which API Gateway answers with 415 to a body of another content type when the integration's
 * passthrough behavior is NEVER
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html).
 */
export const UNSUPPORTED_MEDIA_TYPE_MESSAGE = "Send the workflow input as Content-Type: application/json.";

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
  /**
   * Unused: the start API validates with its request model only, as API Gateway does; the
   * workflow's Plan step checks the rest (and ends the run with an error record when it refuses).
   */
  defaultStepWaitSeconds?: number;
  /**
   * The request model (a JSON Schema draft-04 document, as given to Terraform's
   * `request_model_schema`). Default: the simulated workflow's
   * (`infra/modules/start-api/templates/workflow-input.schema.json`), or, with
   * `simulatedWorkflow: false`, the one `modules/stepstream` gives your own workflow when you give
   * none (`infra/modules/stepstream/templates/default-input.schema.json`).
   */
  requestModel?: JsonSchema;
  /** false when the stack runs your own workflow: its default request model is then stepstream's. */
  simulatedWorkflow?: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The media type of a Content-Type header (parameters dropped); API Gateway assumes JSON without one. */
function mediaTypeOf(req: IncomingMessage): string {
  const header = req.headers["content-type"];
  if (header === undefined || header.trim() === "") return "application/json";
  return (header.split(";")[0] ?? "").trim().toLowerCase();
}

/**
 * What API Gateway's `POST /` does on AWS, and no more: a body of another content type is `415`
 * (passthrough NEVER); a body that is not JSON or does not match the request model is `400`
 * (the request validator, with the model's own message); then the body becomes the input of
 * `StartExecution`, and the answer is
 * `{"workflow":{executionArn, lambdaResultURL, completeLambdaResultURL, startDate}}`. Step
 * Functions' refusals are answered as the API's integration response answers them
 * (`start-execution.errors.json`). Checks that need the whole input (for the simulated workflow:
 * `failAt` below `count`, the run within 5 minutes) belong to the workflow's Plan step, which ends
 * the run with an error record, on AWS as here.
 */
export function startApiHandler(o: StartApiOptions) {
  const model: RequestModel = compileRequestModel(
    o.requestModel ??
      loadRequestModel(o.simulatedWorkflow === false ? OWN_WORKFLOW_REQUEST_MODEL_PATH : undefined),
  );
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
    let input: unknown = {};
    let parsed = true;
    try {
      text = utf8.decode(body);
    } catch {
      text = "";
      parsed = false;
    }
    // API Gateway checks the body against the model of its content type (request validator) and
    // refuses other content types at the integration (passthrough NEVER): 415, whatever the body.
    if (mediaTypeOf(req) !== "application/json") {
      return sendJson(res, 415, {
        error: { code: "UnsupportedMediaType", message: UNSUPPORTED_MEDIA_TYPE_MESSAGE },
      });
    }
    if (parsed && text.trim() !== "") {
      try {
        input = JSON.parse(text);
      } catch {
        parsed = false;
      }
    }
    // A body that is not JSON fails the model as any mismatch does: the same BAD_REQUEST_BODY answer.
    const refused = parsed ? model.check(input) : model.refusal;
    if (refused) return sendError(res, "BadRequest", refused);
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
      // A 4xx from Step Functions is answered as the API's 4xx integration response answers it; a
      // 5xx is API Gateway's 502 (safe to retry).
      if (status >= 400 && status < 500) {
        const answer = answerForStartError(e.name, e.message, randomUUID());
        return sendJson(res, answer.status, { error: { code: answer.code, message: answer.message } });
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
