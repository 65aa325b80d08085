import type { Credentials } from "@stepstream/client";
import { signRequest } from "@stepstream/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDateText } from "../src/api.js";
import { type LocalStack, startStack } from "../src/index.js";

// The AWS sample "async-state-machine-streaming-lambda-results" ships an integration test
// (`__tests__/integration/*.test.js`, run against its deployed SAM stack). This file re-expresses
// its assertions, one for one, against the local stack over real HTTP, so that any client written
// for the sample keeps working against stepstream:
// - POST the API with no body; the answer is `ok` and has `workflow` with `executionArn` matching
//   `arn:aws:states:.*`, and `lambdaResultURL`, `completeLambdaResultURL`, `startDate` all strings;
// - GET `completeLambdaResultURL`, SigV4-signed for service `lambda`; the answer is `ok`;
// - the body, split on "\n" chunk by chunk, is 5 JSON lines, line i containing
//   `Result: "This is simulated result i"`, `ExecutionArn` (a string naming the state machine; the
//   sample's stack names it ExampleWorkflow…, ours stepstream-local) and `ResultTimestamp` (a
//   string); the last one also `FinalResult: true`; `trim().split("\n")` has exactly 5 lines;
// - the same, 10 runs at once (`test.concurrent.each` over 10 inputs).
// Differences, which a sample client does not see: the sample's API needs no signature (ours is
// AWS_IAM by default, so the POST is signed), and it writes no other fields (ours add Offset, Type,
// RecordKey, WrittenAt, which `expect.objectContaining` allows, as in the sample's own test).

const EXPECTED_RESULTS = 5;
let stack: LocalStack;

beforeAll(async () => {
  stack = await startStack({ memory: true, port: 0, outputsFile: null, stepWaitMs: 50 });
});
afterAll(async () => {
  await stack?.close();
});

/** The sample's request: a bare POST (no body, no content type), signed here for `execute-api`. */
async function postLikeTheSample(): Promise<Response> {
  const url = new URL(stack.apiEndpoint);
  const headers = await signRequest({
    url,
    method: "POST",
    headers: {},
    service: "execute-api",
    region: stack.region,
    credentials: stack.credentials as Credentials,
  });
  return fetch(url, { method: "POST", headers });
}

/** The sample's stream request: GET with `Content-Type: application/json`, signed for `lambda`. */
async function getLikeTheSample(urlToSign: string): Promise<Response> {
  const url = new URL(urlToSign);
  const headers = await signRequest({
    url,
    method: "GET",
    headers: { "content-type": "application/json" },
    service: "lambda",
    region: stack.region,
    credentials: stack.credentials as Credentials,
  });
  return fetch(url, { method: "GET", headers });
}

/** The sample's `verifyResponseStream`: each chunk split on "\n", each line parsed and compared. */
async function verifyResponseStream(
  body: ReadableStream<Uint8Array>,
  expected: Record<string, unknown>[],
): Promise<string> {
  const chunks: Buffer[] = [];
  let pending = "";
  let i = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    const buf = Buffer.from(chunk);
    // The sample assumes a chunk ends at a line end; a line cut across chunks is joined here.
    const lines = (pending + buf.toString("utf-8")).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const record = JSON.parse(line);
      expect(record).toBeDefined();
      expect(record).toEqual(expect.objectContaining(expected[i]));
      i++;
    }
    chunks.push(buf);
  }
  expect(pending).toBe("");
  return Buffer.concat(chunks).toString("utf-8");
}

async function sampleWorkflowTest(): Promise<void> {
  const apiResponse = await postLikeTheSample();
  expect(apiResponse.ok).toBeTruthy();
  const apiJsonResponse = await apiResponse.json();
  expect(apiJsonResponse).toBeDefined();
  expect(apiJsonResponse).toHaveProperty("workflow");
  expect(apiJsonResponse.workflow).toEqual(
    expect.objectContaining({
      executionArn: expect.stringMatching("arn:aws:states:.*"),
      lambdaResultURL: expect.any(String),
      completeLambdaResultURL: expect.any(String),
      startDate: expect.any(String),
    }),
  );

  const lambdaResponse = await getLikeTheSample(apiJsonResponse.workflow.completeLambdaResultURL);
  expect(lambdaResponse.ok).toBeTruthy();

  const expectedResults: Record<string, unknown>[] = [];
  for (let index = 0; index < EXPECTED_RESULTS; index++) {
    const element: Record<string, unknown> = {
      Result: `This is simulated result ${index}`,
      ExecutionArn: expect.stringMatching(":stepstream-local:.*"),
      ResultTimestamp: expect.any(String),
    };
    if (index === EXPECTED_RESULTS - 1) element.FinalResult = true;
    expectedResults.push(element);
  }
  const completeResult = await verifyResponseStream(
    lambdaResponse.body as ReadableStream<Uint8Array>,
    expectedResults,
  );
  const lines = completeResult.trim().split("\n");
  expect(lines.length).toEqual(EXPECTED_RESULTS);
}

describe("the AWS sample's integration test, against the local stack", () => {
  it("get async notifications for a single invocation of an express workflow", sampleWorkflowTest, 80_000);

  it.concurrent.each(Array.from({ length: 10 }, (_, i) => i))(
    "test %# : get async notifications for an express workflow (10 at once)",
    sampleWorkflowTest,
    80_000,
  );
});

describe("what the sample's clients rely on beyond its test", () => {
  it("startDate is Step Functions' epoch seconds as API Gateway's mapping renders them (a string)", async () => {
    const res = await postLikeTheSample();
    const { workflow } = await res.json();
    expect(workflow.startDate).toMatch(/^\d\.\d+E9$/);
    expect(Math.abs(Number(workflow.startDate) * 1000 - Date.now())).toBeLessThan(60_000);
    expect(startDateText(new Date(1_764_625_995_123))).toBe("1.764625995123E9");
    expect(startDateText(new Date(2_000_000_000_000))).toBe("2.0E9");
    expect(startDateText(new Date(1_764_625_995_000))).toBe("1.764625995E9");
  });

  it("a failed run's terminal record carries FinalResult: true, so a sample reader sees it end", async () => {
    const url = new URL(stack.apiEndpoint);
    const body = JSON.stringify({ count: 5, failAt: 2 });
    const headers = await signRequest({
      url,
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      service: "execute-api",
      region: stack.region,
      credentials: stack.credentials as Credentials,
    });
    const started = await (await fetch(url, { method: "POST", headers, body })).json();
    const res = await getLikeTheSample(started.workflow.completeLambdaResultURL);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // The sample's streamer ends a stream on the first record that has the field (`name in item`).
    const end = lines.findIndex((l) => "FinalResult" in l);
    expect(end).toBe(lines.length - 1);
    expect(lines.at(-1)).toMatchObject({
      Type: "error",
      FinalResult: true,
      ResultTimestamp: expect.any(String),
    });
    expect(lines.slice(0, -1).every((l) => l.Type === "result")).toBe(true);
  });
});
