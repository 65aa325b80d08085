import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  answerForStartError,
  compileRequestModel,
  DEFAULT_REQUEST_MODEL_PATH,
  type LocalCredentials,
  type LocalStack,
  loadRequestModel,
  startStack,
  UNSUPPORTED_MEDIA_TYPE_MESSAGE,
} from "../src/index.js";
import { clientFor, type SignOptions, sendSigned } from "./security-helpers.js";

// One validation contract (issue 11 item 6): the start API checks exactly what API Gateway's
// request model checks (JSON Schema draft-04, the very document Terraform deploys), answers other
// content types 415 as passthrough NEVER does, and the workflow's Plan step checks the rest: a run
// it refuses has started, and its readers' streams end with the error record.

const model = compileRequestModel(loadRequestModel());

describe("the request model (draft-04, as API Gateway validates it)", () => {
  it.each([
    [{}, true],
    [{ count: 1, concurrency: 1, stepWaitSeconds: 0, stepDurationMs: 0, stepJitterMs: 0, failAt: 0 }, true],
    [{ count: 1000, concurrency: 40, stepWaitSeconds: 60, stepDurationMs: 60000, stepJitterMs: 60000 }, true],
    [{ count: 3, failAt: 3 }, true], // the model cannot compare two fields: Plan refuses it
    [{ count: 1000, stepWaitSeconds: 60 }, true], // nor compute a run's length: Plan refuses it
    [{ count: 5.0 }, true], // 5.0 is the integer 5 in JSON
    [{ concurency: 3 }, false],
    [{ count: 0 }, false],
    [{ count: 1001 }, false],
    [{ count: 2.5 }, false],
    [{ count: "5" }, false],
    [{ count: null }, false],
    [{ concurrency: 41 }, false],
    [{ stepWaitSeconds: -1 }, false],
    [{ stepDurationMs: 60001 }, false],
    [{ failAt: -1 }, false],
    [{ failAt: 1000 }, false],
    [[], false],
    ["text", false],
    [null, false],
    [7, false],
  ])("%j matches: %s", (value, ok) => {
    expect(model.check(value) === null).toBe(ok);
  });

  it("refuses with the model's own message, the one the BAD_REQUEST_BODY gateway response carries", () => {
    const schema = JSON.parse(readFileSync(DEFAULT_REQUEST_MODEL_PATH, "utf8"));
    expect(model.check({ concurency: 3 })).toBe(`Invalid request body: ${schema.description}`);
    expect(schema.description).not.toContain("$");
  });

  it("refuses a schema that is not draft-04", () => {
    expect(() => compileRequestModel({ $schema: "https://json-schema.org/draft/2020-12/schema" })).toThrow(
      /draft-04/,
    );
  });
});

describe("Step Functions' refusals are answered as the API's integration response answers them", () => {
  it.each([
    ["InvalidExecutionInput", "bad input", 400, "BadRequest"],
    ["com.amazonaws.swf.service.v2.model#ValidationException", "no", 400, "BadRequest"],
    ["ExecutionAlreadyExists", "exists", 409, "Conflict"],
    ["ExecutionLimitExceeded", "limit", 429, "Throttled"],
    ["ThrottlingException", "slow down", 429, "Throttled"],
    ["AccessDeniedException", "not authorized", 500, "Internal"],
    ["StateMachineDoesNotExist", "gone", 500, "Internal"],
    ["KmsAccessDeniedException", "key", 500, "Internal"],
    ["SomethingNew", "?", 500, "Internal"],
    ["InvalidExecutionInput", "length less than or equal to 262144", 413, "PayloadTooLarge"],
  ])("%s (%s) -> %i %s", (type, detail, status, code) => {
    const a = answerForStartError(type, detail, "req-1");
    expect([a.status, a.code]).toEqual([status, code]);
    if (status === 500) expect(a.message).toContain("req-1");
  });
});

describe("the local start API does what API Gateway does, and the Plan step the rest", () => {
  let stack: LocalStack;
  let creds: LocalCredentials;
  const api = (o: Partial<SignOptions> = {}): SignOptions => ({
    service: "execute-api",
    region: stack.region,
    credentials: creds,
    port: Number(new URL(stack.apiEndpoint).port),
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
    ...o,
  });

  beforeAll(async () => {
    stack = await startStack({ memory: true, port: 0, outputsFile: null, stepWaitMs: 0 });
    creds = stack.credentials as LocalCredentials;
  });
  afterAll(async () => {
    await stack?.idle();
    await stack?.close();
  });

  it("415 for another content type, whatever the body (passthrough NEVER)", async () => {
    const before = stack.executions.size;
    const res = await sendSigned(api({ headers: { "content-type": "text/plain" }, body: "{}" }));
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body)).toEqual({
      error: { code: "UnsupportedMediaType", message: UNSUPPORTED_MEDIA_TYPE_MESSAGE },
    });
    expect(stack.executions.size).toBe(before);
  });

  it("accepts application/json with a charset parameter, and a body without a content type", async () => {
    const a = await sendSigned(api({ headers: { "content-type": "application/json; charset=utf-8" } }));
    expect(a.status, a.body).toBe(200);
    const b = await sendSigned(api({ headers: {} }));
    expect(b.status, b.body).toBe(200);
  });

  it('{"concurency":3} is refused with 400 and starts nothing', async () => {
    const before = stack.executions.size;
    const res = await sendSigned(api({ body: JSON.stringify({ concurency: 3 }) }));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.message).toMatch(/^Invalid request body: send a JSON object with only/);
    expect(stack.executions.size).toBe(before);
  });

  it.each([
    [{ count: 3, failAt: 3 }, /failAt must be below count/],
    [{ count: 1000, stepWaitSeconds: 60 }, /Express workflows end at 300 s/],
  ])(
    "%j passes the model, starts, and the Plan step ends its stream with an error record",
    async (input, cause) => {
      const run = await clientFor(stack).run(input);
      const records = [];
      for await (const r of run) records.push(r);
      const outcome = await run.outcome;
      expect(records).toEqual([]);
      expect(outcome.status).toBe("failed");
      expect(outcome.terminal.Type).toBe("error");
      expect(outcome.error?.Cause).toMatch(cause);
    },
  );
});
