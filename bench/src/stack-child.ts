// The local stack in its own process, so the harness can measure its memory and CPU from outside and
// start a fresh one per configuration (the Lambda bundles read process.env: one stack per process).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { DEVELOPMENT_CREDENTIALS, startStack } from "@stepstream/local";
import { CapacityLedger, groupOf } from "./capacity.js";
import { watchFrontDoor } from "./door.js";
import type { FromChild, StackChildOptions, ToChild } from "./protocol.js";

const send = (m: FromChild) => process.send?.(m);

/** V8's sampling profiler over the inspector protocol, for the measured windows only. */
let session: Session | undefined;
function post(method: string, params?: object): Promise<unknown> {
  session ??= new Session();
  try {
    session.connect();
  } catch {
    // already connected
  }
  return new Promise((resolve, reject) =>
    (session as Session).post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))),
  );
}
async function profileStart(): Promise<void> {
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 200 });
  await post("Profiler.start");
}
async function profileStop(file: string): Promise<void> {
  const { profile } = (await post("Profiler.stop")) as { profile: unknown };
  writeFileSync(file, JSON.stringify(profile));
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.BENCH_STACK_OPTIONS ?? "{}") as StackChildOptions;
  const ledger = new CapacityLedger();
  const acks = new Map<string, number>();
  const door = watchFrontDoor(ledger, acks);
  door.enabled = options.accounting;
  const stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: null,
    stepWaitMs: 0,
    credentials: DEVELOPMENT_CREDENTIALS,
    streamer: options.streamer,
    logLevel: "ERROR",
  });
  process.on("message", (m: ToChild) => {
    if (m.type === "snapshot") {
      const cpu = process.cpuUsage();
      send({
        type: "snapshot",
        id: m.id,
        snapshot: {
          at: Date.now(),
          counts: { ...stack.dynamoCounts },
          ledger: ledger.snapshot(),
          ledgerFailures: door.failures,
          rssBytes: process.memoryUsage.rss(),
          cpuMicros: cpu.user + cpu.system,
        },
      });
    } else if (m.type === "acks") {
      // Hands over (and forgets) the write acknowledgements of one execution group.
      const out: [string, number][] = [];
      for (const [key, at] of acks) {
        if (groupOf(key.split("|")[0]) === m.group) {
          out.push([key, at]);
          acks.delete(key);
        }
      }
      send({ type: "acks", id: m.id, acks: out });
    } else if (m.type === "accounting") {
      door.enabled = m.enabled;
    } else if (m.type === "profile-start") {
      profileStart().then(
        () => send({ type: "done", id: m.id }),
        (err) => send({ type: "done", id: m.id, error: String(err) }),
      );
    } else if (m.type === "profile-stop") {
      profileStop(m.file).then(
        () => send({ type: "done", id: m.id }),
        (err) => send({ type: "done", id: m.id, error: String(err) }),
      );
    } else if (m.type === "close") {
      void stack.close().finally(() => process.exit(0));
    }
  });
  // The harness went away: do not linger.
  process.on("disconnect", () => void stack.close().finally(() => process.exit(0)));
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
