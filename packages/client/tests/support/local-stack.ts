import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Credentials } from "../../src/index.js";

/** A local stack running in a child process (see local-stack.mjs). */
export interface StackProcess {
  apiEndpoint: string;
  streamUrl: string;
  region: string;
  credentials: Credentials | null;
  close(): Promise<void>;
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "local-stack.mjs");

/** Starts the local stack in its own process (its options as for `startStack`) and waits for its endpoints. */
export function startStackProcess(options: Record<string, unknown> = {}): Promise<StackProcess> {
  const child = spawn(process.execPath, [SCRIPT, JSON.stringify(options)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("the local stack did not start within 60 s"));
    }, 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(`the local stack exited with ${code} before it was up (is apps/local built? make build)`),
      );
    });
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      const info = JSON.parse(out.slice(0, nl)) as Omit<StackProcess, "close">;
      resolve({
        ...info,
        close: async () => {
          child.kill("SIGTERM");
          await exited;
        },
      });
    });
  });
}
