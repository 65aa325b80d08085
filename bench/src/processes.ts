import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FromChild, StackChildOptions, StackInfo, StackSnapshot, ToChild } from "./protocol.js";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** The environment of a child: this one's, without any AWS credentials or endpoints of the caller. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("AWS_") && !k.startsWith("STEPSTREAM_") && !k.startsWith("POWERTOOLS_")) env[k] = v;
  }
  return {
    ...env,
    AWS_REGION: "us-east-1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    AWS_EC2_METADATA_DISABLED: "true",
    ...extra,
  };
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Resident memory (bytes) and CPU time (µs) of a process, from /proc; `undefined` off Linux. */
export function procUsage(pid: number): { rssBytes: number; cpuMicros: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssBytes: rssKb * 1024, cpuMicros: (ticks / ticksPerSecond()) * 1e6 };
  } catch {
    return undefined;
  }
}

/** A forked child that answers the harness protocol (child.ts): snapshots, acks, profiles, close. */
class MeasuredChild {
  private nextId = 1;
  private readonly pending = new Map<number, (s: StackSnapshot) => void>();
  private readonly waiting = new Map<number, (error?: string) => void>();
  private readonly ackWaiters = new Map<number, (acks: [string, number][]) => void>();

  constructor(readonly child: ChildProcess) {
    child.on("message", (m: FromChild) => {
      if (m.type === "snapshot") {
        this.pending.get(m.id)?.(m.snapshot);
        this.pending.delete(m.id);
      } else if (m.type === "acks") {
        this.ackWaiters.get(m.id)?.(m.acks);
        this.ackWaiters.delete(m.id);
      } else if (m.type === "done") {
        this.waiting.get(m.id)?.(m.error);
        this.waiting.delete(m.id);
      }
    });
  }

  /** Forks `file` and waits (bounded) for its first message, which `ready` turns into a value. */
  static async fork<T>(
    file: string,
    env: Record<string, string>,
    what: string,
    ready: (m: FromChild) => T | undefined,
  ): Promise<{ child: MeasuredChild; value: T }> {
    const child = fork(here(file), [], {
      env: childEnv(env),
      execArgv: ["--enable-source-maps"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const value = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s`)), 60_000);
      child.on("message", (m: FromChild) => {
        const v = ready(m);
        if (v !== undefined) {
          clearTimeout(timer);
          resolve(v);
        } else if (m.type === "error") {
          clearTimeout(timer);
          reject(new Error(`${what} failed to start: ${m.message}`));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited with code ${code} while starting`));
      });
    });
    return { child: new MeasuredChild(child), value };
  }

  request(m: Extract<ToChild, { id: number }>): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the child did not answer ${m.type}`)), 30_000);
      this.waiting.set(m.id, (error) => {
        clearTimeout(timer);
        if (error) reject(new Error(error));
        else resolve();
      });
      this.child.send(m);
    });
  }

  id(): number {
    return this.nextId++;
  }

  snapshot(timeoutMs: number): Promise<StackSnapshot> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error("the local stack did not answer a snapshot request"));
      }, timeoutMs);
      this.pending.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.child.send({ type: "snapshot", id } satisfies ToChild);
    });
  }

  acks(group: string, timeoutMs: number): Promise<Map<string, number>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ackWaiters.delete(id);
        reject(new Error("the local stack did not answer an acks request"));
      }, timeoutMs);
      this.ackWaiters.set(id, (acks) => {
        clearTimeout(timer);
        resolve(new Map(acks));
      });
      this.child.send({ type: "acks", id, group } satisfies ToChild);
    });
  }

  send(m: ToChild): void {
    this.child.send(m);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ type: "close" } satisfies ToChild);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The local stack, running in a child process; with `separateEmulator`, its DynamoDB emulator runs in
 * a second child (dynamo-child.ts, the same `startDynamo`), so the stack's CPU and a latency figure
 * are the stack's own. Snapshots then take the request counts, the capacity ledger and the write
 * acknowledgements from the emulator's process (its front door), and CPU and memory from the stack's,
 * with the emulator's beside them.
 */
export class StackProcess {
  /** Where `profile` writes CPU profiles; unset: profiling off. */
  private profileDir: string | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private peakRss = 0;

  private constructor(
    private readonly stack: MeasuredChild,
    private readonly emulator: MeasuredChild | undefined,
    readonly info: StackInfo,
  ) {}

  /** Forks the emulator (when separate) and `stack-child.js`, and waits until the stack listens (bounded). */
  static async start(
    options: StackChildOptions & { cpuProfileDir?: string; separateEmulator?: boolean },
  ): Promise<StackProcess> {
    if (options.cpuProfileDir) mkdirSync(options.cpuProfileDir, { recursive: true });
    let emulator: MeasuredChild | undefined;
    const childOptions: StackChildOptions = { streamer: options.streamer, accounting: options.accounting };
    if (options.separateEmulator) {
      const e = await MeasuredChild.fork(
        "./dynamo-child.js",
        { BENCH_DYNAMO_OPTIONS: JSON.stringify({ accounting: options.accounting }) },
        "the DynamoDB emulator",
        (m) => (m.type === "emulator-ready" ? m.endpoint : undefined),
      );
      emulator = e.child;
      childOptions.dynamoEndpoint = e.value;
    }
    try {
      const s = await MeasuredChild.fork(
        "./stack-child.js",
        { BENCH_STACK_OPTIONS: JSON.stringify(childOptions) },
        "the local stack",
        (m) => (m.type === "ready" ? m.info : undefined),
      );
      const p = new StackProcess(s.child, emulator, s.value);
      p.profileDir = options.cpuProfileDir;
      return p;
    } catch (err) {
      await emulator?.close();
      throw err;
    }
  }

  /** True when the emulator runs in its own process. */
  get separateEmulator(): boolean {
    return this.emulator !== undefined;
  }

  /** The child whose HTTP server is the DynamoDB front door. */
  private get door(): MeasuredChild {
    return this.emulator ?? this.stack;
  }

  /**
   * Runs `fn` with the stack's CPU profiled (when the harness runs with `--cpu-prof`), writing
   * `<dir>/<name>.cpuprofile` (and the emulator's to `<name>-emulator.cpuprofile` when it runs apart);
   * returns the stack's path, or undefined when profiling is off.
   */
  async profile<T>(name: string, fn: () => Promise<T>): Promise<{ result: T; file?: string }> {
    if (!this.profileDir) return { result: await fn() };
    const dir = this.profileDir;
    const file = join(dir, `${name}.cpuprofile`);
    const children: [MeasuredChild, string][] = [[this.stack, file]];
    if (this.emulator) children.push([this.emulator, join(dir, `${name}-emulator.cpuprofile`)]);
    await Promise.all(children.map(([c]) => c.request({ type: "profile-start", id: c.id() })));
    try {
      return { result: await fn(), file };
    } finally {
      await Promise.all(children.map(([c, f]) => c.request({ type: "profile-stop", id: c.id(), file: f })));
    }
  }

  get pid(): number {
    return this.info.pid;
  }

  /** Counts, ledger, RSS and CPU, as the children see them now. */
  async snapshot(timeoutMs = 30_000): Promise<StackSnapshot> {
    if (!this.emulator) return this.stack.snapshot(timeoutMs);
    const [s, e] = await Promise.all([this.stack.snapshot(timeoutMs), this.emulator.snapshot(timeoutMs)]);
    return {
      ...s,
      counts: e.counts,
      ledger: e.ledger,
      ledgerFailures: e.ledgerFailures,
      emulator: {
        rssBytes: e.rssBytes,
        cpuMicros: e.cpuMicros,
        ...(e.runQueueWaitMicros !== undefined ? { runQueueWaitMicros: e.runQueueWaitMicros } : {}),
        ...(e.loopDelayMs ? { loopDelayMs: e.loopDelayMs } : {}),
      },
    };
  }

  /**
   * When DynamoDB acknowledged each record written to an execution group, as the response left the
   * emulator's front door (`<executionArn>|<offset>` → epoch ms). The child forgets them once read.
   */
  acks(group: string, timeoutMs = 30_000): Promise<Map<string, number>> {
    return this.door.acks(group, timeoutMs);
  }

  setAccounting(enabled: boolean): void {
    this.stack.send({ type: "accounting", enabled } satisfies ToChild);
    this.emulator?.send({ type: "accounting", enabled } satisfies ToChild);
  }

  /** Samples the stack child's RSS from /proc every `everyMs` until `stopSampling`. */
  startSampling(everyMs = 200): void {
    this.stopSampling();
    this.peakRss = procUsage(this.pid)?.rssBytes ?? 0;
    this.sampler = setInterval(() => {
      const u = procUsage(this.pid);
      if (u && u.rssBytes > this.peakRss) this.peakRss = u.rssBytes;
    }, everyMs);
    this.sampler.unref();
  }

  /** Stops sampling; returns the peak RSS seen (bytes), 0 where /proc is missing. */
  stopSampling(): number {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = undefined;
    const u = procUsage(this.pid);
    if (u && u.rssBytes > this.peakRss) this.peakRss = u.rssBytes;
    return this.peakRss;
  }

  async close(): Promise<void> {
    this.stopSampling();
    await this.stack.close();
    await this.emulator?.close();
  }
}

/** The AWS sample's reader, serving JSON Lines on a loopback port from its own process. */
export class BaselineProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(o: {
    dynamoEndpoint: string;
    tableName: string;
    pollMs: number;
  }): Promise<BaselineProcess> {
    const child = fork(here("./baseline-child.js"), [], {
      env: childEnv({
        BENCH_DYNAMO_ENDPOINT: o.dynamoEndpoint,
        BENCH_TABLE_NAME: o.tableName,
        BENCH_POLL_MS: String(o.pollMs),
      }),
      execArgv: ["--enable-source-maps"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("the baseline reader did not start within 30 s")),
        30_000,
      );
      child.on("message", (m: { type: string; url?: string; message?: string }) => {
        clearTimeout(timer);
        if (m.type === "ready" && m.url) resolve(m.url);
        else reject(new Error(`the baseline reader failed: ${m.message}`));
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the baseline reader exited with code ${code} while starting`));
      });
    });
    return new BaselineProcess(child, url);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** True when the builds the bench runs exist. */
export function buildsPresent(paths: string[]): string[] {
  return paths.filter((p) => !existsSync(p));
}
