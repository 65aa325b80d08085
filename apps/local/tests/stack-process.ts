import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { executionNameFor } from "@stepstream/results-schema";
import type { StackOptions } from "../src/index.js";

const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), "fixtures/stack-process.mjs");
export const MiB = 1024 * 1024;

export interface StackMemory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Streamer invocations whose handler has not returned. */
  running: number;
  openIterators: number;
}

export interface StackProcess {
  streamUrl: string;
  apiEndpoint: string;
  dynamoEndpoint: string;
  tableName: string;
  stateMachineArn: string;
  region: string;
  pid: number;
  /** The stack process's memory after a full GC (its own figures, not the test runner's). */
  memory(): Promise<StackMemory>;
  /** A DynamoDB client of the stack's emulator, in the test's process. */
  dynamo(): DynamoDBClient;
  /** An ARN of this stack's state machine, named as the start API names executions (started now). */
  newExecutionArn(): string;
  close(): Promise<void>;
}

/** Starts the built local stack in a child process (`node --expose-gc`), auth off, on free ports. */
export async function startStackProcess(options: Partial<StackOptions> = {}): Promise<StackProcess> {
  const child: ChildProcess = fork(FIXTURE, [JSON.stringify(options)], {
    execArgv: ["--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const info = await new Promise<Record<string, string>>((ok, fail) => {
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`the stack process exited (${code}) before it was ready`)));
    child.once("message", (m) => ok(m as Record<string, string>));
  });
  child.removeAllListeners("exit");
  let n = 0;
  let client: DynamoDBClient | undefined;
  return {
    streamUrl: info.streamUrl as string,
    apiEndpoint: info.apiEndpoint as string,
    dynamoEndpoint: info.dynamoEndpoint as string,
    tableName: info.tableName as string,
    stateMachineArn: info.stateMachineArn as string,
    region: info.region as string,
    pid: child.pid as number,
    memory: () =>
      new Promise((ok) => {
        const id = ++n;
        const on = (m: { type?: string; id?: number } & StackMemory) => {
          if (m.type !== "memory" || m.id !== id) return;
          child.off("message", on);
          ok(m);
        };
        child.on("message", on);
        child.send({ type: "memory", id });
      }),
    dynamo: () => {
      client ??= new DynamoDBClient({
        region: info.region as string,
        endpoint: info.dynamoEndpoint as string,
        credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
      });
      return client;
    },
    newExecutionArn: () =>
      `${(info.stateMachineArn as string).replace(":stateMachine:", ":express:")}:${executionNameFor(Date.now(), randomUUID())}:${randomUUID()}`,
    close: async () => {
      client?.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.send({ type: "close" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
