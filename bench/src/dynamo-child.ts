// The local stack's DynamoDB emulator in a process of its own (`startDynamo` from @stepstream/local:
// the very emulator the stack runs, dynalite with our transactions), so that a latency figure measures
// the stack (the ASL interpreter, the step Lambdas, the streamer) and not the emulator's CPU too. The
// front door (request accounting and write acknowledgements) is watched here, where the server runs.
import { startDynamo } from "@stepstream/local";
import { frontDoor, send, serveHarness } from "./child.js";

async function main(): Promise<void> {
  const { accounting } = JSON.parse(process.env.BENCH_DYNAMO_OPTIONS ?? "{}") as { accounting?: boolean };
  const front = frontDoor(accounting ?? true);
  const emulator = await startDynamo({ port: 0 });
  serveHarness({ counts: () => emulator.counts, front, close: () => emulator.close() });
  send({ type: "emulator-ready", pid: process.pid, endpoint: emulator.endpoint });
}

main().catch((err) => {
  send({ type: "error", message: (err as Error).stack ?? String(err) });
  process.exit(1);
});
