import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { progress, progressDone } from "../harness.js";
import { median } from "../stats.js";

export interface ArtifactsResult {
  stepsZipBytes: number;
  streamerZipBytes: number;
  /** Median time to import each bundle in a fresh Node process (cold-start proxy), ms. */
  stepsImportMs: number;
  streamerImportMs: number;
  importRuns: number;
  stepsImportSamplesMs: number[];
  streamerImportSamplesMs: number[];
}

export const BUNDLES = {
  stepsZip: "packages/steps/dist/steps.zip",
  streamerZip: "packages/streamer/dist/streamer.zip",
  stepsBundle: "packages/steps/dist/lambda/index.mjs",
  streamerBundle: "packages/streamer/dist/lambda/index.mjs",
} as const;

/** Times `import(bundle)` in a fresh `node` process with the environment Lambda would give it. */
export function importMs(bundle: string, stubLambdaRuntime: boolean): number {
  const script = [
    stubLambdaRuntime
      ? "globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };"
      : "",
    "const t0 = performance.now();",
    `await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
    "process.stdout.write(String(performance.now() - t0));",
  ].join("\n");
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 30_000,
    env: {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      TABLE_NAME: "stepstream-bench",
      STATE_MACHINE_ARN: "arn:aws:states:us-east-1:000000000000:stateMachine:x",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      POWERTOOLS_LOG_LEVEL: "ERROR",
    },
  });
  return Number(out);
}

/** Zip sizes and import times of the two Lambda bundles Terraform deploys. */
export function runArtifacts(root: string, runs: number): ArtifactsResult {
  const steps: number[] = [];
  const streamer: number[] = [];
  for (let i = 0; i < runs; i++) {
    progress(`artifacts: import ${i + 1}/${runs}`);
    steps.push(importMs(join(root, BUNDLES.stepsBundle), false));
    streamer.push(importMs(join(root, BUNDLES.streamerBundle), true));
  }
  progressDone();
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    stepsZipBytes: statSync(join(root, BUNDLES.stepsZip)).size,
    streamerZipBytes: statSync(join(root, BUNDLES.streamerZip)).size,
    stepsImportMs: r1(median(steps)),
    streamerImportMs: r1(median(streamer)),
    importRuns: runs,
    stepsImportSamplesMs: steps.map(r1),
    streamerImportSamplesMs: streamer.map(r1),
  };
}
