import { parseArgs } from "node:util";
import { DEVELOPMENT_CREDENTIALS } from "./auth.js";
import { DEFAULT_PORT, startStack } from "./stack.js";

const HELP = `stepstream-local: the embedded local stack (make local)

Usage: node apps/local/dist/main.js [options]

Options:
  --memory                 keep DynamoDB in memory (default: on disk under .local/data)
  --port N                 first port (default STEPSTREAM_PORT or ${DEFAULT_PORT}); API=N, stream=N+1,
                           DynamoDB=N+2, Step Functions=N+3; 0 picks free ports
  --no-auth                accept unsigned requests (SigV4 is verified by default)
  --cors-origin ORIGIN     allow a browser origin (repeatable)
  --duplicate-executions   run every execution twice at once, as Express at-least-once may
  --no-web                 do not serve the web view (default: on port N+4 when apps/web is built)
  --verbose                log requests and Lambda logs at INFO
  -h, --help               this help

Environment: STEPSTREAM_PORT, STEPSTREAM_STEP_WAIT_MS (simulated step wait, default 1000),
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (the credentials requests must be signed
with; without them the development pair is used), AWS_REGION (default us-east-1).
Writes .local/outputs.json in the shape of \`terraform output -json\`.`;

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      memory: { type: "boolean", default: false },
      port: { type: "string" },
      "no-auth": { type: "boolean", default: false },
      "cors-origin": { type: "string", multiple: true },
      "duplicate-executions": { type: "boolean", default: false },
      "no-web": { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
}
try {
  args = parse();
} catch (err) {
  console.error(`${(err as Error).message}\n\n${HELP}`);
  process.exit(2);
}
if (args.values.help) {
  console.log(HELP);
  process.exit(0);
}
const verbose = args.values.verbose;
const port = args.values.port === undefined ? undefined : Number(args.values.port);
if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65530)) {
  console.error(`--port must be a port number, got ${args.values.port}`);
  process.exit(2);
}

const log = verbose
  ? (message: string, fields?: Record<string, unknown>) =>
      console.error(JSON.stringify({ time: new Date().toISOString(), level: "INFO", message, ...fields }))
  : undefined;

const started = Date.now();
const stack = await startStack({
  ...(port !== undefined ? { port } : {}),
  memory: args.values.memory,
  auth: !args.values["no-auth"],
  duplicateExecutions: args.values["duplicate-executions"],
  corsOrigins: args.values["cors-origin"] ?? [],
  web: !args.values["no-web"],
  logLevel: verbose ? "INFO" : "ERROR",
  ...(log ? { log } : {}),
}).catch((err: Error & { code?: string }) => {
  if (err.code === "EADDRINUSE") {
    console.error(
      `a port is already in use (${err.message}); set STEPSTREAM_PORT or --port to another first port`,
    );
  } else {
    console.error(`the local stack could not start: ${err.message}`);
  }
  process.exit(1);
});

console.log(`stepstream local stack is up (${Date.now() - started} ms)
  API (POST /)        ${stack.apiEndpoint}
  stream URL          ${stack.streamUrl}
  DynamoDB            ${stack.dynamoEndpoint} (table ${stack.tableName}${args.values.memory ? ", in memory" : ", on disk in .local/data"})
  Step Functions      ${stack.sfnEndpoint} (${stack.stateMachineArn})
  web view            ${stack.webUrl ?? (args.values["no-web"] ? "off (--no-web)" : "not built: make build builds apps/web")}
  outputs             .local/outputs.json`);
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
