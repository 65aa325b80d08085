#!/usr/bin/env node
// AWS smoke test of a deployed stack (`make smoke`; not part of `make test`).
//
// Reads `terraform -chdir=infra output -json`, starts a run through the API with SigV4
// (@stepstream/client), streams it through the Function URL, and checks the 5 records
// "This is simulated result 0..4", the last one carrying FinalResult: true.
//
// Needs AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for
// temporary credentials, AWS_SESSION_TOKEN). With a profile or SSO:
//   eval "$(aws configure export-credentials --format env)" && make smoke
// Options: --outputs FILE reads the outputs from a file of the same shape instead (for instance the
// local stack's .local/outputs.json, to rehearse the smoke test without AWS).
// Environment: STEPSTREAM_SMOKE_TIMEOUT_SECONDS (default 180), STEPSTREAM_FINAL_RESULT_FIELD
// (default FinalResult, as the Terraform variable final_result_field_name).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const INFRA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EXPECTED = 5;
const FINAL_FIELD = process.env.STEPSTREAM_FINAL_RESULT_FIELD || "FinalResult";
const TIMEOUT_SECONDS = Number(process.env.STEPSTREAM_SMOKE_TIMEOUT_SECONDS || 180);

const args = process.argv.slice(2);
const outputsIndex = args.indexOf("--outputs");
const outputsFile = outputsIndex >= 0 ? args[outputsIndex + 1] : undefined;
if ((outputsIndex >= 0 && !outputsFile) || args.some((a, i) => a !== "--outputs" && i !== outputsIndex + 1)) {
  console.error("usage: node infra/scripts/smoke.mjs [--outputs FILE]");
  process.exit(2);
}

const say = (m) => console.log(`smoke: ${m}`);
function die(message, hint) {
  console.error(`\nsmoke: FAILED: ${message}`);
  if (hint) console.error(`smoke: ${hint}`);
  process.exit(1);
}

// 1. Credentials: the stack is AWS_IAM; without credentials nothing can be signed.
if (!process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) {
  die(
    "no AWS credentials in the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY): the smoke test signs its requests with SigV4",
    'export them, or with a profile or SSO: eval "$(aws configure export-credentials --format env)"',
  );
}

// 2. Outputs of the deployed stack.
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
      `could not read terraform outputs: ${(err.stderr || err.message || String(err)).toString().trim()}`,
      "deploy first: make deploy",
    );
  }
}
const outputs = readOutputs();
const config = outputs?.client_config?.value;
if (!config?.apiEndpoint || !config?.streamUrl) {
  die(
    `${outputsFile ?? "terraform output"} has no client_config: the stack is not deployed`,
    "deploy first: make deploy",
  );
}
say(`api ${config.apiEndpoint}`);
say(`stream ${config.streamUrl}`);
say(`region ${config.region}, API authorization ${config.apiAuthorization}`);

// 3. Start a run and stream it.
let StepstreamClient;
try {
  ({ StepstreamClient } = await import("@stepstream/client"));
} catch (err) {
  die(`cannot load @stepstream/client (${err.message})`, "build it first: make build");
}
const client = new StepstreamClient({
  apiEndpoint: config.apiEndpoint,
  streamUrl: config.streamUrl,
  region: config.region,
});

const abort = new AbortController();
const timer = setTimeout(() => abort.abort(), TIMEOUT_SECONDS * 1000);
const started = Date.now();
const records = [];
let outcome;
try {
  const run = await client.run({}, { signal: abort.signal });
  say(`started ${run.started.executionArn}`);
  for await (const record of run) {
    records.push(record);
    say(`+${((Date.now() - started) / 1000).toFixed(1)}s ${record.Offset} ${JSON.stringify(record.Result)}`);
  }
  outcome = await run.outcome;
} catch (err) {
  die(
    `${err.name ?? "Error"}${err.code ? ` ${err.code}` : ""}: ${err.message}`,
    abort.signal.aborted ? `no end within ${TIMEOUT_SECONDS} s` : undefined,
  );
} finally {
  clearTimeout(timer);
}

// 4. Check what arrived.
const problems = [];
if (outcome?.status !== "succeeded")
  problems.push(`the run ended ${outcome?.status}: ${JSON.stringify(outcome?.error ?? {})}`);
if (records.length !== EXPECTED) problems.push(`expected ${EXPECTED} records, got ${records.length}`);
records.forEach((r, i) => {
  const want = `This is simulated result ${i}`;
  if (r.Result !== want)
    problems.push(`record ${i}: expected ${JSON.stringify(want)}, got ${JSON.stringify(r.Result)}`);
  const final = r[FINAL_FIELD] === true;
  if (i === EXPECTED - 1 && !final) problems.push(`the last record does not carry ${FINAL_FIELD}: true`);
  if (i < EXPECTED - 1 && final) problems.push(`record ${i} carries ${FINAL_FIELD}: true before the end`);
});
if (problems.length > 0) die(problems.join("; "));

say(
  `OK: ${records.length} records in ${((Date.now() - started) / 1000).toFixed(1)} s, the last with ${FINAL_FIELD}: true`,
);
