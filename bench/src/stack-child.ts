// The local stack in its own process, so the harness can measure its memory and CPU from outside and
// start a fresh one per configuration (the Lambda bundles read process.env: one stack per process).
// With `dynamoEndpoint` it uses the emulator served by dynamo-child.ts instead of its own.
import { DEVELOPMENT_CREDENTIALS, startStack } from "@stepstream/local";
import { frontDoor, send, serveHarness } from "./child.js";
import type { StackChildOptions } from "./protocol.js";

async function main(): Promise<void> {
  const options = JSON.parse(process.env.BENCH_STACK_OPTIONS ?? "{}") as StackChildOptions;
  const front = frontDoor(options.accounting);
  const stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: null,
    stepWaitMs: 0,
    credentials: DEVELOPMENT_CREDENTIALS,
    streamer: options.streamer,
    logLevel: "ERROR",
    ...(options.dynamoEndpoint ? { dynamoEndpoint: options.dynamoEndpoint } : {}),
  });
  serveHarness({ counts: () => stack.dynamoCounts, front, close: () => stack.close() });
  send({
    type: "ready",
    info: {
      pid: process.pid,
      streamUrl: stack.streamUrl,
      apiEndpoint: stack.apiEndpoint,
      dynamoEndpoint: stack.dynamoEndpoint,
      tableName: stack.tableName,
      stateMachineArn: stack.stateMachineArn,
      region: stack.region,
    },
  });
}

main().catch((err) => {
  send({ type: "error", message: (err as Error).stack ?? String(err) });
  process.exit(1);
});
