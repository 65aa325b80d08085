// What a measured child process (the stack, or the DynamoDB emulator on its own) answers the harness:
// snapshots, write acknowledgements, accounting on/off, CPU profiles of its measured windows, close.
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { CapacityLedger, groupOf } from "./capacity.js";
import { watchFrontDoor } from "./door.js";
import type { FromChild, ToChild } from "./protocol.js";

export const send = (m: FromChild) => process.send?.(m);

/**
 * Time this process's main thread (its event loop) was runnable but waiting for a CPU (Linux
 * `/proc/self/schedstat`, second field, ns → µs): how much the machine's other work, not this
 * process, held it back.
 */
function runQueueWaitMicros(): number | undefined {
  try {
    return Math.round(Number(readFileSync("/proc/self/schedstat", "utf8").split(" ")[1]) / 1000);
  } catch {
    return undefined;
  }
}

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

/**
 * Watches the DynamoDB front door of this process (the emulator's HTTP server, wherever it runs:
 * nothing is seen in a process without one). Call before the emulator starts.
 */
export function frontDoor(accounting: boolean) {
  const ledger = new CapacityLedger();
  const acks = new Map<string, number>();
  const door = watchFrontDoor(ledger, acks);
  door.enabled = accounting;
  return { ledger, acks, door };
}

/** Answers the harness's messages until it says close (or goes away). */
export function serveHarness(o: {
  counts: () => Record<string, number>;
  front: ReturnType<typeof frontDoor>;
  close: () => Promise<void>;
}): void {
  const { ledger, acks, door } = o.front;
  // How late this process's event loop ran, between snapshots (ms): its own queue, not the machine's.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const closeAndExit = () => void o.close().finally(() => process.exit(0));
  process.on("message", (m: ToChild) => {
    if (m.type === "snapshot") {
      const cpu = process.cpuUsage();
      send({
        type: "snapshot",
        id: m.id,
        snapshot: {
          at: Date.now(),
          counts: { ...o.counts() },
          ledger: ledger.snapshot(),
          ledgerFailures: door.failures,
          rssBytes: process.memoryUsage.rss(),
          cpuMicros: cpu.user + cpu.system,
          runQueueWaitMicros: runQueueWaitMicros(),
          loopDelayMs: {
            p50: Math.round(loop.percentile(50) / 1e4) / 100,
            p99: Math.round(loop.percentile(99) / 1e4) / 100,
          },
        },
      });
      loop.reset();
    } else if (m.type === "acks") {
      // Hands over (and forgets) the write acknowledgements of one execution group.
      const out: [string, number][] = [];
      for (const [key, at] of acks) {
        const parts = key.split("|"); // [q|r|]<executionArn>|<offset>
        if (groupOf(parts[parts.length - 2]) === m.group) {
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
      closeAndExit();
    }
  });
  // The harness went away: do not linger.
  process.on("disconnect", closeAndExit);
}
