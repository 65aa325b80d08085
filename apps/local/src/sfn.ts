import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { StateMachine } from "aws-local-stepfunctions";

type JSONValue = Parameters<StateMachine["run"]>[0];

import { listenOnLoopback, readBody } from "./http.js";

// aws-local-stepfunctions uses Promise.withResolvers (Node 22); Node 20 lacks it.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (v: T | PromiseLike<T>) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** Invokes a Lambda function by name with a payload (what `arn:aws:states:::lambda:invoke` does). */
export type LambdaInvoker = (functionName: string, payload: unknown) => Promise<unknown>;

/** A Lambda function error as Step Functions sees it: `Error` is the error type, `Cause` a JSON string. */
class LambdaFunctionError extends Error {
  constructor(errorType: string, cause: string) {
    super(cause);
    this.name = errorType;
  }
}

export interface ExecutionRecord {
  executionArn: string;
  name: string;
  startDate: Date;
  input: unknown;
  status: "RUNNING" | "SUCCEEDED" | "FAILED";
  stopDate?: Date;
  error?: string;
}

export interface SfnEmulatorOptions {
  port: number;
  region: string;
  account: string;
  stateMachineName: string;
  definition: string;
  invoke: LambdaInvoker;
  /**
   * Run each execution twice, concurrently, with the same ARN: Express workflows are at-least-once,
   * and this makes the local stack show what that does to the steps.
   */
  duplicateExecutions?: boolean;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface SfnEmulator {
  endpoint: string;
  port: number;
  stateMachineArn: string;
  executions: Map<string, ExecutionRecord>;
  /** Resolves when every execution started so far has ended. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const NAME_RE = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_INPUT_BYTES = 256 * 1024;

/**
 * A Step Functions endpoint (the AWS JSON 1.0 protocol the SDK speaks) that runs the Express state
 * machine with `aws-local-stepfunctions`. Every `lambda:invoke` task calls `invoke` with the task's
 * resolved `FunctionName` and `Payload`, and wraps the result as Lambda does (`{Payload, StatusCode}`).
 */
export async function startSfn(o: SfnEmulatorOptions): Promise<SfnEmulator> {
  const stateMachineArn = `arn:aws:states:${o.region}:${o.account}:stateMachine:${o.stateMachineName}`;
  const definition = JSON.parse(o.definition);
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const taskStates = lambdaTaskStates(definition);
  const executions = new Map<string, ExecutionRecord>();
  const running = new Set<Promise<unknown>>();
  const aborts = new Set<() => void>();
  let closing = false;
  const inflight = new Set<Promise<unknown>>();

  const localHandler = async (input: JSONValue): Promise<JSONValue> => {
    const params = (input ?? {}) as { FunctionName?: string; Payload?: unknown };
    try {
      const call = o.invoke(String(params.FunctionName), params.Payload);
      inflight.add(call);
      call.then(
        () => inflight.delete(call),
        () => inflight.delete(call),
      );
      const payload = (await call) as JSONValue;
      return { ExecutedVersion: "$LATEST", Payload: payload ?? null, StatusCode: 200 };
    } catch (err) {
      const e = err as Error;
      const errorType = e.name && e.name !== "Error" ? e.name : "Error";
      throw new LambdaFunctionError(
        errorType,
        JSON.stringify({ errorType, errorMessage: e.message, trace: [] }),
      );
    }
  };
  const overrides = Object.fromEntries(taskStates.map((s) => [s, localHandler]));

  const run = (record: ExecutionRecord) => {
    const execution = machine.run(record.input as JSONValue, {
      overrides: { taskResourceLocalHandlers: overrides },
      noThrowOnAbort: true,
      context: {
        Execution: {
          Id: record.executionArn,
          Name: record.name,
          Input: record.input as JSONValue,
          StartTime: record.startDate.toISOString(),
          RoleArn: `arn:aws:iam::${o.account}:role/${o.stateMachineName}-sfn`,
        },
        StateMachine: { Id: stateMachineArn, Name: o.stateMachineName },
      },
    });
    aborts.add(execution.abort);
    const p = execution.result.then(
      () => {
        if (closing) return;
        record.status = "SUCCEEDED";
        record.stopDate = new Date();
      },
      (err: Error) => {
        if (closing) return;
        record.status = "FAILED";
        record.stopDate = new Date();
        record.error = err.name;
        o.log?.("execution failed", {
          executionArn: record.executionArn,
          error: err.name,
          cause: (err as Error & { cause?: unknown }).message,
        });
      },
    );
    running.add(p);
    p.finally(() => {
      running.delete(p);
      aborts.delete(execution.abort);
    });
  };

  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "content-type": "application/x-amz-json-1.0",
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
    };
    const fail = (status: number, type: string, message: string) => reply(status, { __type: type, message });
    try {
      const target = String(req.headers["x-amz-target"] ?? "");
      // The 256 KiB limit applies to the input string; its JSON-escaped form in the request can be larger.
      const body = await readBody(req, MAX_INPUT_BYTES * 6 + 4096);
      const request = body.length ? JSON.parse(body.toString("utf8")) : {};
      if (target === "AWSStepFunctions.StartExecution") {
        if (request.stateMachineArn !== stateMachineArn) {
          return fail(
            400,
            "StateMachineDoesNotExist",
            `State Machine Does Not Exist: '${request.stateMachineArn}'`,
          );
        }
        const input = request.input ?? "{}";
        if (typeof input !== "string" || Buffer.byteLength(input) > MAX_INPUT_BYTES) {
          return fail(400, "InvalidExecutionInput", "input must be a JSON string of at most 256 KiB");
        }
        let parsedInput: unknown;
        try {
          parsedInput = JSON.parse(input);
        } catch {
          return fail(400, "InvalidExecutionInput", "input is not valid JSON");
        }
        const name = request.name ?? randomUUID();
        if (!NAME_RE.test(name)) return fail(400, "InvalidName", "name must be 1-80 of A-Z a-z 0-9 _ -");
        const executionArn = `arn:aws:states:${o.region}:${o.account}:express:${o.stateMachineName}:${name}:${randomUUID()}`;
        const record: ExecutionRecord = {
          executionArn,
          name,
          startDate: new Date(),
          input: parsedInput,
          status: "RUNNING",
        };
        executions.set(executionArn, record);
        run(record);
        if (o.duplicateExecutions) run({ ...record });
        return reply(200, { executionArn, startDate: record.startDate.getTime() / 1000 });
      }
      if (target === "AWSStepFunctions.DescribeStateMachine") {
        if (request.stateMachineArn !== stateMachineArn)
          return fail(400, "StateMachineDoesNotExist", "State Machine Does Not Exist");
        return reply(200, {
          stateMachineArn,
          name: o.stateMachineName,
          status: "ACTIVE",
          definition: o.definition,
          roleArn: `arn:aws:iam::${o.account}:role/${o.stateMachineName}-sfn`,
          type: "EXPRESS",
          creationDate: 0,
        });
      }
      return fail(
        400,
        "UnknownOperationException",
        `${target || "(no X-Amz-Target)"} is not supported by the local stack`,
      );
    } catch (err) {
      return fail(400, "SerializationException", `bad request: ${(err as Error).message}`);
    }
  });
  const { port, close: closeServer } = await listenOnLoopback(server, o.port);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stateMachineArn,
    executions,
    idle: async () => {
      while (running.size) await Promise.allSettled([...running]);
    },
    close: async () => {
      // Stop running executions first, so none writes to a DynamoDB that is shutting down.
      closing = true;
      for (const abort of aborts) abort();
      await Promise.allSettled([...running, ...inflight]);
      await closeServer();
    },
  };
}

/** Names of all `lambda:invoke` Task states, at any depth (Map item processors included). */
function lambdaTaskStates(definition: { States?: Record<string, unknown> }): string[] {
  const names: string[] = [];
  const visit = (states: Record<string, unknown> | undefined) => {
    for (const [name, s] of Object.entries(states ?? {})) {
      const state = s as {
        Type?: string;
        Resource?: string;
        ItemProcessor?: { States?: Record<string, unknown> };
        Iterator?: { States?: Record<string, unknown> };
        Branches?: { States?: Record<string, unknown> }[];
      };
      if (state.Type === "Task" && state.Resource?.startsWith("arn:aws:states:::lambda:invoke"))
        names.push(name);
      visit(state.ItemProcessor?.States ?? state.Iterator?.States);
      for (const b of state.Branches ?? []) visit(b.States);
    }
  };
  visit(definition.States);
  return names;
}
