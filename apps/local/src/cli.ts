import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { IN_REPOSITORY, REPO_ROOT, stateDir } from "./assets.js";
import { DEVELOPMENT_CREDENTIALS } from "./auth.js";
import { DEFAULT_PORT, type StackOptions, startStack, userConfigPath } from "./stack.js";
import { UserWorkflowError } from "./user-workflow.js";

const HELP = `stepstream local: the embedded local stack (make local in the repository)

Usage: stepstream local [options]        (in the repository: make local ARGS="[options]")

Options:
  --definition FILE        run your own state machine: an ASL JSON file, or a .tftpl template
                           rendered as Terraform's templatefile would (with --var); default: the
                           simulated workflow
  --function NAME=FILE     a Lambda function your ASL invokes (repeatable): NAME is its function name
                           (the ASL's FunctionName: the name, or its local ARN
                           arn:aws:lambda:REGION:000000000000:function:NAME), FILE the handler's
                           file (exports handler), e.g. --function MyStep=./dist/my-step.mjs
  --request-model FILE     the start API's request model, a JSON Schema draft-04 file (what you give
                           Terraform's request_model_schema); default: the simulated workflow's, or
                           for --definition a JSON object of at most 64 fields
  --var NAME=VALUE         a variable of the --definition template (repeatable); the template also
                           gets NAME_function_arn for every --function, as the Terraform module does
  --memory                 keep DynamoDB in memory (default: on disk under .local/data)
  --data-dir DIR           keep DynamoDB on disk in DIR instead of .local/data
  --port N                 first port (default STEPSTREAM_PORT or ${DEFAULT_PORT}); API=N, stream=N+1,
                           DynamoDB=N+2, Step Functions=N+3, web view=N+4; 0 picks free ports
  --no-auth                accept unsigned requests (SigV4 is verified by default)
  --cors-origin ORIGIN     allow a browser origin (repeatable)
  --duplicate-executions   run every execution twice at once, as Express at-least-once may
  --no-web                 do not serve the web view (default: on port N+4 when apps/web is built)
  --verbose                log requests and Lambda logs at INFO
  -h, --help               this help

Your functions get the environment the Terraform module gives them: TABLE_NAME, RESULT_TTL_DAYS,
FINAL_RESULT_FIELD_NAME, POWERTOOLS_LOG_LEVEL, AWS_REGION (and the emulators' endpoints, which the
AWS SDK reads from AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SFN).

Environment: STEPSTREAM_PORT, STEPSTREAM_STEP_WAIT_MS (simulated step wait, default 1000),
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (the credentials requests must be signed
with; without them the development pair is used), AWS_REGION (default us-east-1).
Writes .local/outputs.json (in the repository root, else the current directory) in the shape of
\`terraform output -json\`, and $XDG_CONFIG_HOME/stepstream/local.json (else
~/.config/stepstream/local.json; removed on exit) so that \`stepstream\` finds this stack from any
directory.`;

const pairs = (flag: string, values: string[] | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const at = v.indexOf("=");
    if (at <= 0) throw new UsageError(`${flag} ${v}: expected NAME=VALUE`);
    const name = v.slice(0, at);
    if (name in out) throw new UsageError(`${flag} ${name} is given twice`);
    out[name] = v.slice(at + 1);
  }
  return out;
};

class UsageError extends Error {}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      definition: { type: "string" },
      function: { type: "string", multiple: true },
      var: { type: "string", multiple: true },
      "request-model": { type: "string" },
      memory: { type: "boolean", default: false },
      "data-dir": { type: "string" },
      port: { type: "string" },
      "no-auth": { type: "boolean", default: false },
      "cors-origin": { type: "string", multiple: true },
      "duplicate-executions": { type: "boolean", default: false },
      "no-web": { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
}

/** How to run the `stepstream` command line from here, for the banner. */
function cliHint(): string {
  if (IN_REPOSITORY && REPO_ROOT) {
    const bin = join(REPO_ROOT, ".local/bin");
    return existsSync(join(bin, "stepstream"))
      ? `export PATH="${bin}:$PATH"   (then: stepstream run, stepstream config)`
      : "node apps/cli/dist/main.js (make build links it as .local/bin/stepstream)";
  }
  return "npx stepstream run, npx stepstream config (or add node_modules/.bin to PATH)";
}

/**
 * The local stack's command line (`make local`, `stepstream local`): starts the stack in the
 * foreground until SIGINT/SIGTERM. Returns the exit code when it does not start (2: usage, 1: failed).
 */
export async function runLocal(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  let workflow: StackOptions["workflow"];
  let requestModel: StackOptions["requestModel"];
  try {
    args = parse(argv);
    if (args.values.help) {
      console.log(HELP);
      return 0;
    }
    const functions = pairs("--function", args.values.function);
    const vars = pairs("--var", args.values.var);
    if (args.values.definition !== undefined) {
      if (Object.keys(functions).length === 0) {
        throw new UsageError("--definition needs the functions it invokes: --function NAME=FILE …");
      }
      workflow = { definition: args.values.definition, functions, vars };
    } else if (Object.keys(functions).length > 0 || Object.keys(vars).length > 0) {
      throw new UsageError("--function and --var go with --definition (your own state machine)");
    }
    if (args.values.memory && args.values["data-dir"] !== undefined) {
      throw new UsageError("--data-dir keeps the store on disk, --memory in memory: give one of them");
    }
    const modelFile = args.values["request-model"];
    if (modelFile !== undefined) {
      let model: unknown;
      try {
        model = JSON.parse(readFileSync(modelFile, "utf8"));
      } catch (err) {
        throw new UsageError(
          `--request-model ${modelFile}: not a readable JSON file (${(err as Error).message})`,
        );
      }
      if (model === null || typeof model !== "object" || Array.isArray(model)) {
        throw new UsageError(`--request-model ${modelFile}: a JSON Schema is a JSON object`);
      }
      requestModel = model as Record<string, unknown>;
    }
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const verbose = args.values.verbose;
  const port = args.values.port === undefined ? undefined : Number(args.values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65530)) {
    console.error(`--port must be a port number, got ${args.values.port}`);
    return 2;
  }

  const log = verbose
    ? (message: string, fields?: Record<string, unknown>) =>
        console.error(JSON.stringify({ time: new Date().toISOString(), level: "INFO", message, ...fields }))
    : undefined;

  const started = Date.now();
  const userConfig = userConfigPath();
  let stack: Awaited<ReturnType<typeof startStack>>;
  try {
    stack = await startStack({
      ...(port !== undefined ? { port } : {}),
      memory: args.values.memory,
      ...(args.values["data-dir"] !== undefined ? { dataDir: resolve(args.values["data-dir"]) } : {}),
      auth: !args.values["no-auth"],
      duplicateExecutions: args.values["duplicate-executions"],
      corsOrigins: args.values["cors-origin"] ?? [],
      web: !args.values["no-web"],
      logLevel: verbose ? "INFO" : "ERROR",
      userConfigFile: userConfig,
      ...(workflow ? { workflow } : {}),
      ...(requestModel ? { requestModel } : {}),
      ...(log ? { log } : {}),
    });
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === "EADDRINUSE") {
      console.error(
        `a port is already in use (${err.message}); set STEPSTREAM_PORT or --port to another first port`,
      );
    } else if (err instanceof UserWorkflowError) {
      console.error(`your workflow cannot run: ${err.message}`);
      return 2;
    } else {
      console.error(`the local stack could not start: ${err.message}`);
    }
    return 1;
  }

  const dir = stateDir();
  const shown = (p: string) =>
    relative(process.cwd(), p).startsWith("..") ? p : relative(process.cwd(), p) || ".";
  const fns = Object.entries(stack.functions)
    .map(([name, arn]) => `${name} (${arn})`)
    .join("\n                      ");
  console.log(`stepstream local stack is up (${Date.now() - started} ms)
  API (POST /)        ${stack.apiEndpoint}
  stream URL          ${stack.streamUrl}
  DynamoDB            ${stack.dynamoEndpoint} (table ${stack.tableName}${args.values.memory ? ", in memory" : `, on disk in ${shown(args.values["data-dir"] !== undefined ? resolve(args.values["data-dir"]) : join(dir, "data"))}`})
  Step Functions      ${stack.sfnEndpoint} (${stack.stateMachineArn}${workflow ? `, ${workflow.definition}` : ", the simulated workflow"})
  functions           ${fns}
  web view            ${stack.webUrl ?? (args.values["no-web"] ? "off (--no-web)" : IN_REPOSITORY ? "not built: make build builds apps/web" : "only in the repository")}
  outputs             ${shown(join(dir, "outputs.json"))} and ${userConfig}
  CLI                 ${cliHint()}`);
  if (!stack.credentials) {
    console.log(
      "  WARNING: --no-auth: the API and the stream URL accept unsigned requests from anyone who can reach them.",
    );
  } else if (stack.credentialsSource === "development pair") {
    console.log(`  SigV4                requests must be signed with the development pair:
                       AWS_ACCESS_KEY_ID=${DEVELOPMENT_CREDENTIALS.accessKeyId}
                       AWS_SECRET_ACCESS_KEY=${DEVELOPMENT_CREDENTIALS.secretAccessKey}`);
  } else {
    console.log(
      `  SigV4                requests must be signed with your AWS_ACCESS_KEY_ID (${stack.credentials.accessKeyId.slice(0, 4)}…)`,
    );
  }
  console.log("Press Ctrl-C to stop.");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    await stack.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  return new Promise<number>(() => undefined);
}
