import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import { TABLE_SCHEMA } from "@stepstream/results-schema";
import { MAX_START_BODY_BYTES, startApiHandler } from "./api.js";
import { renderWorkflowDefinition } from "./asl.js";
import { STEPS_BUNDLE, STREAMER_BUNDLE, stateDir, WEB_FRONT_END } from "./assets.js";
import { DEVELOPMENT_CREDENTIALS, type LocalCredentials } from "./auth.js";
import { prepareDataDir } from "./data-dir.js";
import { ensureResultsTable, externalDynamo, type OperationCounts, startDynamo } from "./dynamo.js";
import { type FrontEnd, startFrontEnd } from "./front-end.js";
import { functionUrlHandler, type InvocationStats } from "./function-url.js";
import { sendError } from "./http.js";
import { lambdaContext, loadBundle } from "./lambda-runtime.js";
import { claimOutputsFile, releaseOutputsFile, writeOutputsFile } from "./outputs-file.js";
import { type ExecutionRecord, startSfn } from "./sfn.js";
import { functionNameOf, loadUserWorkflow, type UserWorkflowOptions } from "./user-workflow.js";

export { REPO_ROOT, STEPS_BUNDLE, STREAMER_BUNDLE } from "./assets.js";
/** Default first port: API, then stream URL, DynamoDB, Step Functions, web view on the next ones. */
export const DEFAULT_PORT = 8750;

export interface StreamerSettings {
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  streamTimeoutSeconds?: number;
  heartbeatSeconds?: number;
  longPollSeconds?: number;
  pageSize?: number;
  deadlineMarginMs?: number;
  /** The streamer function's timeout (AWS: up to 900 s). Default 900. */
  functionTimeoutSeconds?: number;
  /** Longest resumable connection (`MAX_CONNECTION_SECONDS`, default 60). */
  maxConnectionSeconds?: number;
  /** Latest an execution can write after its start (`MAX_EXECUTION_SECONDS`, default 330). */
  maxExecutionSeconds?: number;
}

export interface StackOptions {
  /** First port (`STEPSTREAM_PORT`, default 8750); 0 picks free ports for everything. */
  port?: number;
  /** Keep DynamoDB in memory (tests); otherwise on disk in `dataDir`. */
  memory?: boolean;
  /** Default `.local/data` in the repository (installed: in the current directory). */
  dataDir?: string;
  /**
   * Use the DynamoDB at this endpoint instead of starting the emulator in this process: e.g. the same
   * emulator served from another process by {@link startDynamo} (the benchmark does this, so that the
   * emulator's CPU is not the stack's). The results table is created there if it is missing. `memory`
   * and `dataDir` then do not apply; `dynamoCounts` stays empty and `dynamoOpenIterators()` 0 (they
   * are the emulator's, in its process), and starts are not refused on store failures.
   */
  dynamoEndpoint?: string;
  /** Verify SigV4 on the API and the stream URL. Default true. */
  auth?: boolean;
  /** Credentials requests must be signed with. Default: AWS_* environment variables, else the development pair. */
  credentials?: LocalCredentials;
  region?: string;
  /** Simulated step wait (`STEPSTREAM_STEP_WAIT_MS`, default 1000). */
  stepWaitMs?: number;
  streamer?: StreamerSettings;
  resultTtlDays?: number;
  finalResultFieldName?: string;
  /** Run every execution twice at once (Express at-least-once), to exercise idempotent writes. */
  duplicateExecutions?: boolean;
  /** Browser origins allowed by CORS on both front ends. Default none. */
  corsOrigins?: string[];
  /**
   * Where to write the outputs (terraform output -json shape). `null`: do not write. Default
   * `.local/outputs.json` in the repository (installed: in the current directory).
   */
  outputsFile?: string | null;
  /**
   * Also write the outputs to this user-level file (`userConfigPath()`, what `make local` does), so
   * that `stepstream` finds the stack from any directory. It records this process's id, and the stack
   * removes it when it stops; the CLI ignores a file whose process is gone. Default: not written.
   */
  userConfigFile?: string | null;
  /**
   * Run your own workflow (your ASL, your handlers) instead of the simulated one. Every function
   * gets the environment the Terraform module gives a writer: `TABLE_NAME`, `RESULT_TTL_DAYS`,
   * `FINAL_RESULT_FIELD_NAME`, `POWERTOOLS_LOG_LEVEL` (and `AWS_REGION`, the endpoints).
   */
  workflow?: UserWorkflowOptions;
  /**
   * The start API's request model (a JSON Schema draft-04 document, the one you give Terraform's
   * `request_model_schema`). Default: the simulated workflow's, or, with `workflow`, the one
   * `modules/stepstream` gives your own workflow when you give none.
   */
  requestModel?: Record<string, unknown>;
  /** Lambda log level (POWERTOOLS_LOG_LEVEL). Default ERROR. */
  logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /**
   * Serve the web view (`apps/web`, when built) on the port after Step Functions', with a proxy that
   * signs its requests to the API and the stream URL with the stack's credentials. Default false.
   */
  web?: boolean;
}

/** A running local stack. */
export interface LocalStack {
  apiEndpoint: string;
  streamUrl: string;
  tableName: string;
  stateMachineArn: string;
  /** The simulated workflow's step function; `null` when running your own workflow. */
  stepsFunctionArn: string | null;
  /** The Lambda functions the state machine can invoke: name → ARN. */
  functions: Record<string, string>;
  region: string;
  account: string;
  /** Credentials the front ends accept (`null` when auth is off). */
  credentials: LocalCredentials | null;
  credentialsSource: "environment" | "development pair" | "options" | "none";
  dynamoEndpoint: string;
  sfnEndpoint: string;
  /** The web view's URL (`web: true` and `apps/web` built), else `null`. */
  webUrl: string | null;
  /** DynamoDB requests by operation, counted at the emulator's front door. */
  dynamoCounts: OperationCounts;
  /** Database iterators the DynamoDB emulator holds open right now (0 when idle: a leak check). */
  dynamoOpenIterators(): number;
  /** The streamer's invocations as Lambda counts them (each runs, and is billed, until its handler returns). */
  streamerInvocations: InvocationStats;
  executions: Map<string, ExecutionRecord>;
  /** The outputs, in the shape of `terraform output -json`. */
  outputs: Record<string, { value: unknown; type: unknown; sensitive: boolean }>;
  /** Resolves when every execution started so far has ended. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

function envCredentials(): LocalCredentials | undefined {
  const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token } = process.env;
  if (!id || !secret) return undefined;
  return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) };
}

/**
 * Starts the embedded stack: DynamoDB emulator, the Express state machine on an ASL interpreter with
 * its `lambda:invoke` tasks wired to the built step bundle, the start API and the streaming Function
 * URL running the built streamer bundle. The bundles reach the emulators only through the AWS SDK's
 * endpoint variables (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SFN`).
 *
 * One stack per process: the Lambda bundles read `process.env`, as they do on Lambda.
 *
 * @example
 * ```ts
 * const stack = await startStack({ memory: true, port: 0, outputsFile: null });
 * // POST stack.apiEndpoint, GET the returned completeLambdaResultURL …
 * await stack.close();
 * ```
 */
export async function startStack(options: StackOptions = {}): Promise<LocalStack> {
  const log = options.log;
  // Node 20 is what these machines have; the SDK's notice about Node 22 is known and not actionable here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
  const account = "000000000000";
  const prefix = "stepstream-local";
  const tableName = `${prefix}-results`;
  const auth = options.auth ?? true;
  const fromEnv = envCredentials();
  const credentials = options.credentials ?? fromEnv ?? DEVELOPMENT_CREDENTIALS;
  const credentialsSource = !auth
    ? "none"
    : options.credentials
      ? "options"
      : fromEnv
        ? "environment"
        : "development pair";
  const basePort = options.port ?? Number(process.env.STEPSTREAM_PORT ?? DEFAULT_PORT);
  if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65530) {
    throw new Error(`STEPSTREAM_PORT must be a port number (0-65530), got ${process.env.STEPSTREAM_PORT}`);
  }
  const portAt = (k: number) => (basePort === 0 ? 0 : basePort + k);
  const stepWaitMs = options.stepWaitMs ?? Number(process.env.STEPSTREAM_STEP_WAIT_MS ?? 1000);
  if (!Number.isFinite(stepWaitMs) || stepWaitMs < 0 || stepWaitMs > 60_000) {
    throw new Error(`STEPSTREAM_STEP_WAIT_MS must be 0..60000, got ${process.env.STEPSTREAM_STEP_WAIT_MS}`);
  }
  const s = options.streamer ?? {};
  const outputsFile =
    options.outputsFile === undefined ? join(stateDir(), "outputs.json") : options.outputsFile;
  const dataDir =
    options.memory || options.dynamoEndpoint ? undefined : (options.dataDir ?? join(stateDir(), "data"));
  // A data directory the store cannot use is one clear error (path, cause, fix), before anything starts.
  if (dataDir) await prepareDataDir(dataDir);
  // Before any port is bound: a second stack must not take over a running one's outputs file.
  if (outputsFile) claimOutputsFile(outputsFile);
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };

  try {
    // 1. DynamoDB: the emulator in this process, or the one at `dynamoEndpoint`.
    const dynamo = options.dynamoEndpoint
      ? externalDynamo(options.dynamoEndpoint)
      : await startDynamo({ port: portAt(2), ...(dataDir ? { path: dataDir } : {}) });
    closers.push(dynamo.close);
    // While the store fails its writes (a full or read-only disk), starts are refused with a 503
    // rather than accepted and lost; each refused start first probes with one write, so starts are
    // accepted again as soon as the store can write.
    const probe = new DynamoDBClient({ region, endpoint: dynamo.endpoint, maxAttempts: 1 });
    closers.push(async () => probe.destroy());
    const storeWrites = async (): Promise<boolean> => {
      if (!dynamo.storeFailure()) return true;
      const Key = {
        [TABLE_SCHEMA.partitionKey]: { S: "stepstream-local-store-probe" },
        [TABLE_SCHEMA.sortKey]: { N: "0" },
      };
      try {
        await probe.send(new PutItemCommand({ TableName: tableName, Item: Key }));
        await probe.send(new DeleteItemCommand({ TableName: tableName, Key }));
        dynamo.markHealthy();
        return true;
      } catch {
        return false;
      }
    };
    const refuseWhileStoreFails =
      (inner: Parameters<typeof startFrontEnd>[0]["handle"]): Parameters<typeof startFrontEnd>[0]["handle"] =>
      async (req, res, body, ctx) => {
        if (await storeWrites()) return inner(req, res, body, ctx);
        ctx.logFields.refused = "store failing";
        sendError(
          res,
          "Unavailable",
          `the local DynamoDB store cannot write (${dataDir ? `data directory ${dataDir}: is the disk full or read-only?` : "in memory"}); stored runs can still be read; starts are accepted again once a write succeeds`,
          503,
        );
      };

    // 2. The environment the Lambda runtime would give the functions.
    Object.assign(process.env, {
      AWS_REGION: region,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      ...(process.env.AWS_ACCESS_KEY_ID ? {} : { AWS_ACCESS_KEY_ID: credentials.accessKeyId }),
      ...(process.env.AWS_SECRET_ACCESS_KEY ? {} : { AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey }),
    });
    const ddb = new DynamoDBClient({ region });
    await ensureResultsTable(ddb, tableName);
    ddb.destroy();

    const stateMachineName = prefix;
    const stateMachineArn = `arn:aws:states:${region}:${account}:stateMachine:${stateMachineName}`;
    const stepsFunctionName = `${prefix}-steps`;
    const stepsFunctionArn = `arn:aws:lambda:${region}:${account}:function:${stepsFunctionName}`;
    const common = {
      TABLE_NAME: tableName,
      FINAL_RESULT_FIELD_NAME: options.finalResultFieldName ?? "FinalResult",
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? "ERROR",
    };
    // The functions the state machine invokes: the simulated workflow's step bundle, or yours.
    type Handler = (event: unknown, context: unknown) => Promise<unknown>;
    const writerEnv = { ...common, RESULT_TTL_DAYS: String(options.resultTtlDays ?? 7) };
    const user = options.workflow ? loadUserWorkflow(options.workflow, region, account) : null;
    const handlers = new Map<string, Handler>();
    if (user) {
      for (const [name, file] of user.functions)
        handlers.set(name, await loadBundle<Handler>(file, writerEnv));
    } else {
      handlers.set(stepsFunctionName, await loadBundle<Handler>(STEPS_BUNDLE, writerEnv));
    }
    const functions = Object.fromEntries(
      [...handlers.keys()].map((name) => [name, `arn:aws:lambda:${region}:${account}:function:${name}`]),
    );
    const streamerEnv: Record<string, string> = { ...common, STATE_MACHINE_ARN: stateMachineArn };
    const put = (k: string, v: number | undefined) => {
      if (v !== undefined) streamerEnv[k] = String(v);
    };
    put("POLL_INTERVAL_MS", s.pollIntervalMs);
    put("MAX_POLL_INTERVAL_MS", s.maxPollIntervalMs);
    put("STREAM_TIMEOUT_SECONDS", s.streamTimeoutSeconds);
    put("HEARTBEAT_SECONDS", s.heartbeatSeconds);
    put("LONG_POLL_SECONDS", s.longPollSeconds);
    put("PAGE_SIZE", s.pageSize);
    put("DEADLINE_MARGIN_MS", s.deadlineMarginMs);
    put("MAX_CONNECTION_SECONDS", s.maxConnectionSeconds);
    put("MAX_EXECUTION_SECONDS", s.maxExecutionSeconds);
    for (const k of [
      "MAX_CONNECTION_SECONDS",
      "MAX_EXECUTION_SECONDS",
      "POLL_INTERVAL_MS",
      "MAX_POLL_INTERVAL_MS",
      "STREAM_TIMEOUT_SECONDS",
      "HEARTBEAT_SECONDS",
      "LONG_POLL_SECONDS",
      "PAGE_SIZE",
      "DEADLINE_MARGIN_MS",
    ]) {
      if (!(k in streamerEnv)) delete process.env[k];
    }
    const streamerHandler = await loadBundle<(e: unknown, r: Writable, c: unknown) => Promise<void>>(
      STREAMER_BUNDLE,
      streamerEnv,
    );

    // 3. Step Functions, running the one ASL template with the same variables Terraform passes.
    const definition =
      user?.definition ?? renderWorkflowDefinition({ stepsFunctionArn, stepWaitSeconds: stepWaitMs / 1000 });
    const sfn = await startSfn({
      port: portAt(3),
      region,
      account,
      stateMachineName,
      definition,
      duplicateExecutions: options.duplicateExecutions ?? false,
      ...(log ? { log } : {}),
      invoke: async (functionName, payload) => {
        const resolved = functionNameOf(functionName, region, account);
        const handler = "name" in resolved ? handlers.get(resolved.name) : undefined;
        if (!handler || !("name" in resolved)) {
          throw Object.assign(new Error(`Function not found: ${functionName}`), {
            name: "Lambda.ResourceNotFoundException",
          });
        }
        return handler(payload, lambdaContext(resolved.name, region, account, 60_000));
      },
    });
    closers.push(sfn.close);
    process.env.AWS_ENDPOINT_URL_SFN = sfn.endpoint;

    // 4. The streaming Function URL and the start API.
    const cors = options.corsOrigins ?? [];
    const authFor = (service: "execute-api" | "lambda") => (auth ? { credentials, region, service } : null);
    const streamerUrl = functionUrlHandler({
      handler: streamerHandler,
      functionName: `${prefix}-streamer`,
      region,
      account,
      timeoutMs: (s.functionTimeoutSeconds ?? 900) * 1000,
      ...(log ? { log } : {}),
    });
    const stream: FrontEnd = await startFrontEnd({
      port: portAt(1),
      auth: authFor("lambda"),
      corsOrigins: cors,
      corsMethods: "GET, HEAD",
      corsExposeHeaders: "stream-next-offset,stream-up-to-date,stream-cursor,stream-closed,etag",
      bodyLimit: 64 * 1024,
      ...(log ? { log } : {}),
      handle: streamerUrl,
    });
    closers.push(stream.close);
    // Runs before stream.close (closers run in reverse): no invocation outlives the stack.
    closers.push(async () => streamerUrl.shutdown());
    const sfnClient = new SFNClient({ region });
    closers.push(async () => sfnClient.destroy());
    const api: FrontEnd = await startFrontEnd({
      port: portAt(0),
      auth: authFor("execute-api"),
      corsOrigins: cors,
      corsMethods: "POST",
      bodyLimit: MAX_START_BODY_BYTES,
      ...(log ? { log } : {}),
      handle: refuseWhileStoreFails(
        startApiHandler({
          sfn: sfnClient,
          stateMachineArn: sfn.stateMachineArn,
          streamUrl: stream.url,
          defaultStepWaitSeconds: stepWaitMs / 1000,
          simulatedWorkflow: !user,
          ...(options.requestModel ? { requestModel: options.requestModel } : {}),
        }),
      ),
    });
    closers.push(api.close);

    // 5. The web view, behind a proxy that signs for the browser (apps/web owns it; loaded like the bundles).
    let webUrl: string | null = null;
    if (options.web) {
      if (WEB_FRONT_END && existsSync(WEB_FRONT_END)) {
        const { startWebFrontEnd } = (await import(pathToFileURL(WEB_FRONT_END).href)) as {
          startWebFrontEnd(o: {
            port: number;
            apiEndpoint: string;
            streamUrl: string;
            credentials: LocalCredentials | null;
            region: string;
            log?: (message: string, fields?: Record<string, unknown>) => void;
          }): Promise<{ url: string; close(): Promise<void> }>;
        };
        const web = await startWebFrontEnd({
          port: portAt(4),
          apiEndpoint: api.url,
          streamUrl: stream.url,
          credentials: auth ? credentials : null,
          region,
          ...(log ? { log } : {}),
        });
        closers.push(web.close);
        webUrl = web.url;
      } else {
        log?.("web view not available: build apps/web in the repository (make build)", {
          missing: WEB_FRONT_END,
        });
      }
    }

    const clientConfig = {
      apiEndpoint: api.url,
      streamUrl: stream.url,
      region,
      tableName,
      stateMachineArn,
      apiAuthorization: auth ? "AWS_IAM" : "NONE",
    };
    const out = (value: unknown, sensitive = false) => ({
      sensitive,
      type: typeof value === "string" ? "string" : ["object", {}],
      value,
    });
    const outputs: LocalStack["outputs"] = {
      api_endpoint: out(api.url),
      stream_url: out(stream.url),
      table_name: out(tableName),
      state_machine_arn: out(stateMachineArn),
      client_config: out(clientConfig),
      dynamodb_endpoint: out(dynamo.endpoint),
      sfn_endpoint: out(sfn.endpoint),
      ...(webUrl ? { web_url: out(webUrl) } : {}),
      ...(auth && credentialsSource === "development pair"
        ? { local_credentials: out(DEVELOPMENT_CREDENTIALS, true) }
        : {}),
    };
    if (outputsFile) {
      writeOutputsFile(outputsFile, outputs);
      closers.push(async () => releaseOutputsFile(outputsFile));
      writeFileSync(join(dirname(outputsFile), "workflow.asl.json"), definition);
    }
    if (options.userConfigFile) {
      const file = options.userConfigFile;
      writeUserConfig(file, outputs, outputsFile ?? null);
      closers.unshift(async () => removeUserConfig(file));
    }

    return {
      apiEndpoint: api.url,
      streamUrl: stream.url,
      tableName,
      stateMachineArn,
      stepsFunctionArn: user ? null : stepsFunctionArn,
      functions,
      region,
      account,
      credentials: auth ? credentials : null,
      credentialsSource,
      dynamoEndpoint: dynamo.endpoint,
      sfnEndpoint: sfn.endpoint,
      webUrl,
      dynamoCounts: dynamo.counts,
      dynamoOpenIterators: dynamo.openIterators,
      streamerInvocations: streamerUrl.stats,
      executions: sfn.executions,
      outputs,
      idle: sfn.idle,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * The user-level file `make local` writes so that `stepstream` finds the running stack from any
 * directory: `$XDG_CONFIG_HOME/stepstream/local.json`, else `~/.config/stepstream/local.json`.
 */
export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(homedir(), ".config");
  return join(base, "stepstream", "local.json");
}

function writeUserConfig(file: string, outputs: LocalStack["outputs"], outputsFile: string | null): void {
  mkdirSync(dirname(file), { recursive: true });
  const body = { pid: process.pid, startedAt: new Date().toISOString(), outputsFile, outputs };
  // Owner-only: it holds the stack's development credentials.
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
}

function removeUserConfig(file: string): void {
  try {
    const body = JSON.parse(readFileSync(file, "utf8")) as { pid?: unknown };
    if (body.pid === process.pid) rmSync(file, { force: true });
  } catch {
    // Gone or rewritten by another stack: leave it.
  }
}
