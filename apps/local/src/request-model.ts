import { readFileSync } from "node:fs";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { DEFAULT_REQUEST_MODEL_PATH, START_ERRORS_PATH } from "./assets.js";

/** A JSON Schema document (draft-04). */
export type JsonSchema = Record<string, unknown>;

/** Validates a request body as API Gateway's request validator does with a model, and no more. */
export interface RequestModel {
  schema: JsonSchema;
  /** The message API Gateway's BAD_REQUEST_BODY answers (the same for any refused body). */
  refusal: string;
  /** `null` when the value matches; otherwise the message API Gateway's BAD_REQUEST_BODY answers. */
  check(value: unknown): string | null;
}

/**
 * Compiles a request model. API Gateway validates bodies against models written in JSON Schema
 * draft 4 (https://docs.aws.amazon.com/apigateway/latest/developerguide/models-mappings-models.html),
 * so this uses Ajv's draft-04 class, with the draft-04 formats. The message of a refused body is the
 * one the start-api module renders into its BAD_REQUEST_BODY gateway response:
 * `Invalid request body: <the schema's description>`.
 *
 * @example
 * ```ts
 * const model = compileRequestModel(loadRequestModel());
 * model.check({ concurency: 3 }); // "Invalid request body: send a JSON object with only the fields …"
 * ```
 */
export function compileRequestModel(schema: JsonSchema): RequestModel {
  if (schema.$schema !== "http://json-schema.org/draft-04/schema#")
    throw new Error(
      'the request model must be a JSON Schema draft-04 document ("$schema": "http://json-schema.org/draft-04/schema#"), as API Gateway models are',
    );
  const ajv = new Ajv({ allErrors: false, strict: false });
  addFormats(ajv as never);
  const validate = ajv.compile(schema);
  const message = `Invalid request body: ${
    typeof schema.description === "string"
      ? schema.description
      : "the body does not match the start API's request model (a JSON object)."
  }`;
  return { schema, refusal: message, check: (value) => (validate(value) ? null : message) };
}

/** Reads a request model from a file (default: the simulated workflow's). */
export function loadRequestModel(path: string = DEFAULT_REQUEST_MODEL_PATH): JsonSchema {
  return JSON.parse(readFileSync(path, "utf8")) as JsonSchema;
}

interface StartErrorAnswer {
  status: number;
  code: string;
  message: string;
}

interface StartErrorTable {
  errors: (StartErrorAnswer & { type: string })[];
  default: StartErrorAnswer;
  payloadTooLarge: StartErrorAnswer;
}

let startErrors: StartErrorTable | undefined;

/**
 * The answer API Gateway's 4xx integration response gives a StartExecution error (the same table
 * and the same rules as `start-execution.error.vtl.tftpl`).
 */
export function answerForStartError(
  type: string,
  detail: string,
  requestId: string,
): { status: number; code: string; message: string } {
  startErrors ??= JSON.parse(readFileSync(START_ERRORS_PATH, "utf8")) as StartErrorTable;
  const name = type.includes("#") ? type.slice(type.lastIndexOf("#") + 1) : type;
  if (
    detail.includes("262144") ||
    detail.includes("length less than or equal") ||
    (name === "InvalidExecutionInput" && detail.toLowerCase().includes("size"))
  )
    return { ...startErrors.payloadTooLarge };
  const known = startErrors.errors.find((e) => e.type === name);
  const answer = known ?? startErrors.default;
  const message =
    answer.status < 500 ? `${answer.message} ${detail}` : `${answer.message} (request ${requestId})`;
  return { status: answer.status, code: answer.code, message: message.trim() };
}
