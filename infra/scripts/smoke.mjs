#!/usr/bin/env node
// AWS smoke test of a deployed stack (`make smoke`; not part of `make test`): what only AWS can show.
//
// Reads `terraform -chdir=infra output -json` and, signing every request with SigV4:
//   1. refused starts: a misspelt field ({"concurency":3}) is 400 from the request model, another
//      content type is 415 (passthrough NEVER), and neither starts anything;
//   2. an execution with no record yet: HEAD is 404, an empty long-poll waits and answers 204;
//   3. a run of 5 results read by the client, then again in every read mode: JSON Lines (the
//      sample's), live JSON Lines from an offset, Durable Streams catch-up, long-poll at the closed
//      tail (204 + Stream-Closed), SSE, and HEAD (status and headers with no body: the Lambda
//      response prelude of an empty answer);
//   4. a reader that disconnects after 2 records and resumes from its last offset: every record
//      once, in order, ending with FinalResult: true.
//
// Needs AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for
// temporary credentials, AWS_SESSION_TOKEN). With a profile or SSO:
//   eval "$(aws configure export-credentials --format env)" && make smoke
// Without them it stops at once with one line (exit 1). `--check-credentials` does only that check
// (the Makefile runs it before building).
// Options: --outputs FILE reads the outputs from a file of the same shape instead (for instance the
// local stack's .local/outputs.json, to rehearse the smoke test without AWS).
// Environment: STEPSTREAM_SMOKE_TIMEOUT_SECONDS (default 240), STEPSTREAM_FINAL_RESULT_FIELD
// (default FinalResult, as the Terraform variable final_result_field_name).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const INFRA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EXPECTED = 5;
const FINAL_FIELD = process.env.STEPSTREAM_FINAL_RESULT_FIELD || "FinalResult";
const TIMEOUT_SECONDS = Number(process.env.STEPSTREAM_SMOKE_TIMEOUT_SECONDS || 240);

const args = process.argv.slice(2);
const checkOnly = args.includes("--check-credentials");
const rest = args.filter((a) => a !== "--check-credentials");
const outputsIndex = rest.indexOf("--outputs");
const outputsFile = outputsIndex >= 0 ? rest[outputsIndex + 1] : undefined;
if ((outputsIndex >= 0 && !outputsFile) || rest.some((a, i) => a !== "--outputs" && i !== outputsIndex + 1)) {
  console.error("usage: node infra/scripts/smoke.mjs [--outputs FILE] [--check-credentials]");
  process.exit(2);
}

const say = (m) => console.log(`smoke: ${m}`);
function die(message) {
  console.error(`smoke: FAILED: ${message}`);
  process.exit(1);
}

// 0. Credentials, first and in one line: the stack is AWS_IAM; without them nothing can be signed.
if (!process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) {
  console.error(
    'smoke: no AWS credentials in the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): export them, e.g. eval "$(aws configure export-credentials --format env)"',
  );
  process.exit(1);
}
if (checkOnly) process.exit(0);

const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
};

// 1. Outputs of the deployed stack.
function readOutputs() {
  if (outputsFile) {
    try {
      return JSON.parse(readFileSync(outputsFile, "utf8"));
    } catch (err) {
      return die(`could not read ${outputsFile}: ${err.message}`);
    }
  }
  try {
    const json = execFileSync("terraform", [`-chdir=${INFRA_DIR}`, "output", "-json"], {
      encoding: "utf8",
      env: { ...process.env, TF_IN_AUTOMATION: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return JSON.parse(json);
  } catch (err) {
    return die(
      `could not read terraform outputs (deploy first: make deploy): ${(err.stderr || err.message || String(err)).toString().trim().split("\n")[0]}`,
    );
  }
}
const outputs = readOutputs();
const config = outputs?.client_config?.value;
if (!config?.apiEndpoint || !config?.streamUrl)
  die(`${outputsFile ?? "terraform output"} has no client_config: the stack is not deployed (make deploy)`);
say(`api ${config.apiEndpoint}`);
say(`stream ${config.streamUrl}`);
say(`region ${config.region}, API authorization ${config.apiAuthorization}`);

let client;
let signRequest;
try {
  const mod = await import("@stepstream/client");
  signRequest = mod.signRequest;
  client = new mod.StepstreamClient({
    apiEndpoint: config.apiEndpoint,
    streamUrl: config.streamUrl,
    region: config.region,
    credentials,
  });
} catch (err) {
  die(`cannot load @stepstream/client (${err.message}): build it first (make build)`);
}

const deadline = AbortSignal.timeout(TIMEOUT_SECONDS * 1000);
const problems = [];
const expect = (ok, what) => {
  if (ok) say(`ok   ${what}`);
  else {
    problems.push(what);
    console.error(`smoke: FAIL ${what}`);
  }
};

/** A signed request to the API (execute-api) or the stream URL (lambda). */
async function signed(service, url, { method = "GET", headers = {}, body, signal } = {}) {
  const u = new URL(url);
  const all = await signRequest({
    url: u,
    method,
    headers: { ...headers },
    body,
    service,
    region: config.region,
    credentials,
  });
  return fetch(u, { method, headers: all, body, signal: signal ?? deadline });
}
const start = (body, contentType = "application/json") =>
  signed("execute-api", config.apiEndpoint, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
const streamAt = (arn, query = "") => `${config.streamUrl}?executionArn=${encodeURIComponent(arn)}${query}`;

async function jsonLines(res, onRecord) {
  const records = [];
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) {
        const r = JSON.parse(line);
        records.push(r);
        if (onRecord?.(r, records) === false) return records;
      }
      nl = buffered.indexOf("\n");
    }
  }
  return records;
}

try {
  // 1. Refused starts.
  const before = Date.now();
  const misspelt = await start(JSON.stringify({ concurency: 3 }));
  const misspeltBody = await misspelt.json().catch(() => ({}));
  expect(
    misspelt.status === 400 && misspeltBody?.error?.code === "BadRequest",
    `{"concurency":3} refused by the request model: ${misspelt.status} ${JSON.stringify(misspeltBody).slice(0, 160)}`,
  );
  const textPlain = await start("{}", "text/plain");
  const textPlainBody = await textPlain.json().catch(() => ({}));
  expect(
    textPlain.status === 415 && textPlainBody?.error?.code === "UnsupportedMediaType",
    `text/plain refused (passthrough NEVER): ${textPlain.status} ${JSON.stringify(textPlainBody).slice(0, 160)}`,
  );
  const planRefused = await client.run({ count: 3, failAt: 3 }, { signal: deadline });
  for await (const _ of planRefused) {
    // none expected
  }
  const refusedOutcome = await planRefused.outcome;
  expect(
    refusedOutcome.status === "failed" && /failAt/.test(refusedOutcome.error?.Cause ?? ""),
    `{"count":3,"failAt":3} passes the model and the Plan step ends its stream with an error record (${refusedOutcome.status})`,
  );

  // 2. An execution with no record yet (its one step waits 25 s): HEAD 404, an empty long-poll 204.
  const slowStart = await start(JSON.stringify({ count: 1, stepWaitSeconds: 25 }));
  const slow = (await slowStart.json()).workflow;
  const head404 = await signed("lambda", streamAt(slow.executionArn, "&offset=-1"), { method: "HEAD" });
  expect(head404.status === 404, `HEAD of an execution with no record yet: ${head404.status}`);
  const t0 = Date.now();
  const emptyPoll = await signed("lambda", streamAt(slow.executionArn, "&live=long-poll&offset=-1"));
  await emptyPoll.arrayBuffer();
  expect(
    emptyPoll.status === 204 && emptyPoll.headers.get("stream-next-offset") !== null,
    `an empty long-poll waits (${((Date.now() - t0) / 1000).toFixed(1)} s) and answers 204 with Stream-Next-Offset ${emptyPoll.headers.get("stream-next-offset")} (status ${emptyPoll.status})`,
  );

  // 3. A run of 5 results through the client.
  const run = await client.run({ count: EXPECTED, stepWaitSeconds: 1 }, { signal: deadline });
  say(`started ${run.executionArn}`);
  const records = [];
  for await (const record of run) {
    records.push(record);
    say(`+${((Date.now() - before) / 1000).toFixed(1)}s ${record.Offset} ${JSON.stringify(record.Result)}`);
  }
  const outcome = await run.outcome;
  expect(outcome.status === "succeeded", `the run succeeded (${outcome.status})`);
  expect(
    records.length === EXPECTED && records.every((r, i) => r.Result === `This is simulated result ${i}`),
    `${records.length} records, "This is simulated result 0..${EXPECTED - 1}"`,
  );
  const arn = run.executionArn;

  // Every read mode on the finished run.
  const sample = await jsonLines(await signed("lambda", streamAt(arn)));
  expect(
    sample.length === EXPECTED && sample.at(-1)?.[FINAL_FIELD] === true,
    `JSON Lines (the sample's stream): ${sample.length} lines, the last with ${FINAL_FIELD}: true`,
  );
  const live = await jsonLines(
    await signed("lambda", streamAt(arn, `&live=jsonl&offset=${sample[1]?.Offset}`)),
  );
  expect(
    live.length === EXPECTED - 2,
    `live JSON Lines after offset ${sample[1]?.Offset}: ${live.length} lines`,
  );
  const catchUp = await signed("lambda", streamAt(arn, "&offset=-1"));
  const catchUpBody = await catchUp.json();
  expect(
    catchUp.status === 200 && Array.isArray(catchUpBody) && catchUp.headers.get("stream-closed") === "true",
    `Durable Streams catch-up: ${catchUp.status}, ${catchUpBody.length} records, Stream-Closed ${catchUp.headers.get("stream-closed")}`,
  );
  const tail = catchUp.headers.get("stream-next-offset");
  const head = await signed("lambda", streamAt(arn, "&offset=-1"), { method: "HEAD" });
  expect(
    head.status === 200 &&
      head.headers.get("stream-next-offset") === tail &&
      head.headers.get("stream-closed") === "true",
    `HEAD: ${head.status}, Stream-Next-Offset ${head.headers.get("stream-next-offset")}, Stream-Closed ${head.headers.get("stream-closed")} (an empty answer keeps its prelude)`,
  );
  const closedPoll = await signed("lambda", streamAt(arn, `&live=long-poll&offset=${tail}`));
  await closedPoll.arrayBuffer();
  expect(
    closedPoll.status === 204 && closedPoll.headers.get("stream-closed") === "true",
    `long-poll at the closed tail: ${closedPoll.status}, Stream-Closed ${closedPoll.headers.get("stream-closed")}`,
  );
  const sse = await signed("lambda", streamAt(arn, "&live=sse&offset=-1"));
  const sseText = await sse.text();
  expect(
    sse.status === 200 && /event: data/.test(sseText) && /"streamClosed":true/.test(sseText),
    `SSE: ${sse.status}, ${(sseText.match(/event: data/g) ?? []).length} data events, closed`,
  );

  // 4. A reader that goes away after 2 records, then resumes from its last offset.
  const cut = new AbortController();
  let firstPart = [];
  try {
    firstPart = await jsonLines(
      await signed("lambda", streamAt(arn, "&live=jsonl&offset=-1"), { signal: cut.signal }),
      (_r, all) => {
        if (all.length === 2) {
          cut.abort();
          return false;
        }
      },
    );
  } catch (err) {
    if (err.name !== "AbortError") throw err;
  }
  const resumed = [];
  const resumedStream = client.stream(arn, { from: firstPart.at(-1)?.Offset, signal: deadline });
  for await (const r of resumedStream) resumed.push(r);
  const joined = [...firstPart, ...resumed].map((r) => r.Offset);
  expect(
    firstPart.length === 2 &&
      joined.length === EXPECTED &&
      new Set(joined).size === EXPECTED &&
      joined.join() === records.map((r) => r.Offset).join(),
    `disconnect after ${firstPart.length} records, resume from ${firstPart.at(-1)?.Offset}: ${resumed.length} more, each once, in order`,
  );
} catch (err) {
  die(
    `${err.name ?? "Error"}${err.code ? ` ${err.code}` : ""}: ${err.message}${deadline.aborted ? ` (no end within ${TIMEOUT_SECONDS} s)` : ""}`,
  );
}

if (problems.length > 0) die(`${problems.length} check(s) failed: ${problems.join("; ")}`);
say("OK: every check passed");
