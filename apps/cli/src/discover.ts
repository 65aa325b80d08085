import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import type { Credentials } from "@stepstream/client";

/** Where the CLI looks for its endpoints, in this order (the first that has them wins). */
export const DISCOVERY_ORDER = [
  "flags --api-endpoint / --stream-url",
  "environment STEPSTREAM_API_ENDPOINT / STEPSTREAM_STREAM_URL",
  "--outputs FILE (a `terraform output -json` file)",
  "terraform output -json of --terraform-dir DIR, else of infra/ in the project (when it has state)",
  ".local/outputs.json in the project (written by the local stack)",
  "$XDG_CONFIG_HOME/stepstream/local.json or ~/.config/stepstream/local.json (written by a running local stack)",
] as const;

/**
 * The user-level file a running local stack writes (`make local`, `stepstream local`), so that the
 * CLI finds it from any directory: `$XDG_CONFIG_HOME/stepstream/local.json`, else
 * `~/.config/stepstream/local.json`. The same rule as `userConfigPath` in `@stepstream/local`.
 */
export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(homedir(), ".config");
  return join(base, "stepstream", "local.json");
}

export interface DiscoverOptions {
  apiEndpoint?: string;
  streamUrl?: string;
  outputs?: string;
  /** A Terraform root module directory whose `terraform output -json` has the endpoints. */
  terraformDir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** The endpoints and credentials the CLI will use, and where each came from. */
export interface Discovered {
  apiEndpoint: string | null;
  streamUrl: string | null;
  region: string;
  credentials: Credentials | null;
  source: { endpoints: string; region: string; credentials: string };
  /** Each place looked at, with what was found there. */
  tried: string[];
}

/** A configuration problem the user must fix (exit code 2), with the places tried. */
export class DiscoveryError extends Error {
  override readonly name = "DiscoveryError";
  constructor(
    message: string,
    readonly tried: string[],
  ) {
    super(message);
  }
}

interface OutputsFile {
  apiEndpoint: string | null;
  streamUrl: string | null;
  region: string | null;
  localCredentials: Credentials | null;
}

const outputValue = (v: unknown): unknown =>
  v !== null && typeof v === "object" && "value" in (v as Record<string, unknown>)
    ? (v as { value: unknown }).value
    : v;
const nonEmpty = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** Reads `terraform output -json` (or a flat `{api_endpoint: "…"}` object) into endpoints. */
export function parseOutputs(json: unknown): OutputsFile {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new Error("not a JSON object");
  const o = json as Record<string, unknown>;
  const cc = (outputValue(o.client_config) ?? {}) as Record<string, unknown>;
  const lc = outputValue(o.local_credentials) as Record<string, unknown> | undefined;
  const localCredentials =
    lc && nonEmpty(lc.accessKeyId) && nonEmpty(lc.secretAccessKey)
      ? { accessKeyId: lc.accessKeyId as string, secretAccessKey: lc.secretAccessKey as string }
      : null;
  const direct = {
    apiEndpoint: nonEmpty(outputValue(o.api_endpoint)) ?? nonEmpty(cc.apiEndpoint),
    streamUrl: nonEmpty(outputValue(o.stream_url)) ?? nonEmpty(cc.streamUrl),
    region: nonEmpty(cc.region),
    localCredentials,
  };
  if (direct.apiEndpoint || direct.streamUrl) return direct;
  // Your own root module may re-export the module's client_config under another name: take the
  // one output whose value has its shape.
  const configs = Object.values(o)
    .map((v) => outputValue(v) as Record<string, unknown> | null)
    .filter((v) => v !== null && typeof v === "object" && nonEmpty(v.apiEndpoint) && nonEmpty(v.streamUrl));
  if (configs.length !== 1) return direct;
  const only = configs[0] as Record<string, unknown>;
  return {
    apiEndpoint: nonEmpty(only.apiEndpoint),
    streamUrl: nonEmpty(only.streamUrl),
    region: nonEmpty(only.region),
    localCredentials,
  };
}

/**
 * Whether the process that wrote a user-level file still runs. A stack that died without removing
 * its file (killed, crashed, machine rebooted) must not be taken for a running one.
 */
function processAlive(pid: unknown): boolean {
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Reads the user-level file; `null` with the reason when it is absent, unreadable or stale. */
function readUserConfig(path: string): { outputs: OutputsFile } | { reason: string } {
  if (!existsSync(path)) return { reason: "not found (a running local stack writes it)" };
  let body: { pid?: unknown; outputs?: unknown; startedAt?: unknown };
  try {
    body = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return { reason: "unreadable (not JSON)" };
  }
  if (!processAlive(body.pid)) {
    return {
      reason: `stale: the local stack that wrote it (pid ${String(body.pid)}, started ${String(body.startedAt)}) is not running; ignored`,
    };
  }
  try {
    return { outputs: parseOutputs(body.outputs) };
  } catch (err) {
    return { reason: `unreadable (${(err as Error).message})` };
  }
}

function readOutputsFile(path: string): OutputsFile {
  return parseOutputs(JSON.parse(readFileSync(path, "utf8")));
}

function onPath(cmd: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return true;
  }
  return false;
}

/** The project root: the nearest directory (from cwd up) with `.local/outputs.json` or `infra/main.tf`. */
export function projectRoot(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, ".local/outputs.json")) || existsSync(join(dir, "infra/main.tf"))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(cwd);
    dir = up;
  }
}

function hasTerraformState(infra: string): boolean {
  const local = join(infra, "terraform.tfstate");
  if (existsSync(local) && statSync(local).size > 0) return true;
  // A configured backend (remote state) leaves this file after `terraform init`.
  return existsSync(join(infra, ".terraform/terraform.tfstate"));
}

function terraformOutputs(infra: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "terraform",
      [`-chdir=${infra}`, "output", "-json"],
      { env: { ...env, TF_IN_AUTOMATION: "1" }, timeout: 60_000, maxBuffer: 8 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error((stderr || err.message).trim().split("\n")[0]));
        else {
          try {
            resolvePromise(JSON.parse(stdout));
          } catch {
            reject(new Error("terraform output -json printed something that is not JSON"));
          }
        }
      },
    );
  });
}

function envCredentials(env: NodeJS.ProcessEnv): Credentials | null {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return null;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

/**
 * Finds the endpoints (see `DISCOVERY_ORDER`) and the credentials: `AWS_*` environment variables,
 * else the `local_credentials` of the local stack's outputs, else none (unsigned requests).
 * Throws `DiscoveryError` only for a broken `--outputs` file; a missing endpoint is for the caller
 * to judge (`run` can take the stream URL from the start answer).
 */
export async function discover(o: DiscoverOptions = {}): Promise<Discovered> {
  const env = o.env ?? process.env;
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const tried: string[] = [];
  const localPath = join(root, ".local/outputs.json");
  let found: Found | null = null;
  let outputsCredentials: { credentials: Credentials; where: string } | null = null;

  // 1-2. Flags, then environment, field by field.
  const flagApi = nonEmpty(o.apiEndpoint);
  const flagStream = nonEmpty(o.streamUrl);
  const envApi = nonEmpty(env.STEPSTREAM_API_ENDPOINT);
  const envStream = nonEmpty(env.STEPSTREAM_STREAM_URL);
  tried.push(`${DISCOVERY_ORDER[0]}: ${flagApi || flagStream ? "given" : "not given"}`);
  tried.push(`${DISCOVERY_ORDER[1]}: ${envApi || envStream ? "set" : "not set"}`);
  if (flagApi || flagStream || envApi || envStream) {
    const parts: string[] = [];
    if (flagApi || flagStream) parts.push("flags");
    if ((!flagApi && envApi) || (!flagStream && envStream)) parts.push("environment");
    found = {
      api: flagApi ?? envApi,
      stream: flagStream ?? envStream,
      region: null,
      where: parts.join(" + "),
    };
  }

  // 3. --outputs FILE.
  if (!found && o.outputs) {
    const path = resolve(cwd, o.outputs);
    if (!existsSync(path)) {
      tried.push(`--outputs ${o.outputs}: no such file`);
      throw new DiscoveryError(`--outputs ${o.outputs}: no such file (${path})`, tried);
    }
    let parsed: OutputsFile;
    try {
      parsed = readOutputsFile(path);
    } catch (err) {
      tried.push(`--outputs ${o.outputs}: unreadable`);
      throw new DiscoveryError(
        `--outputs ${o.outputs}: not a terraform output -json file (${(err as Error).message})`,
        tried,
      );
    }
    tried.push(
      `--outputs ${o.outputs}: ${parsed.apiEndpoint || parsed.streamUrl ? "found" : "has no api_endpoint / stream_url"}`,
    );
    if (parsed.apiEndpoint || parsed.streamUrl) {
      found = {
        api: parsed.apiEndpoint,
        stream: parsed.streamUrl,
        region: parsed.region,
        where: `--outputs ${o.outputs}`,
      };
      if (parsed.localCredentials)
        outputsCredentials = {
          credentials: parsed.localCredentials,
          where: `local_credentials in ${o.outputs}`,
        };
    }
  } else if (!found) {
    tried.push("--outputs FILE: not given");
  }

  // 4. terraform output -json of --terraform-dir (an error if it has no endpoints), else of infra/.
  if (!found && o.terraformDir) {
    const dir = resolve(cwd, o.terraformDir);
    const r = await fromTerraform(dir, env, `terraform output (${o.terraformDir})`, false);
    found = r.found;
    tried.push(`terraform -chdir=${dir} output -json: ${r.outcome}`);
    if (!found) throw new DiscoveryError(`--terraform-dir ${o.terraformDir}: ${r.outcome}`, tried);
  }
  const infra = join(root, "infra");
  if (!found) {
    const r = await fromTerraform(infra, env, "terraform output (infra/)", true);
    found = r.found;
    tried.push(`terraform -chdir=${infra} output -json: ${r.outcome}`);
  }

  // 5. The local stack's outputs.
  let local: OutputsFile | null = null;
  if (existsSync(localPath)) {
    try {
      local = readOutputsFile(localPath);
    } catch {
      local = null;
    }
  }
  if (!found) {
    if (local && (local.apiEndpoint || local.streamUrl)) {
      tried.push(`${localPath}: found`);
      found = { api: local.apiEndpoint, stream: local.streamUrl, region: local.region, where: localPath };
      if (local.localCredentials)
        outputsCredentials = {
          credentials: local.localCredentials,
          where: `local_credentials in ${localPath}`,
        };
    } else {
      tried.push(
        `${localPath}: ${existsSync(localPath) ? "unreadable or without endpoints" : "not found (start the local stack: make local)"}`,
      );
    }
  }

  // 6. The user-level file of a running local stack.
  const userPath = userConfigPath(env);
  if (!found) {
    const read = readUserConfig(userPath);
    if ("outputs" in read && (read.outputs.apiEndpoint || read.outputs.streamUrl)) {
      const user = read.outputs;
      tried.push(`${userPath}: found`);
      found = { api: user.apiEndpoint, stream: user.streamUrl, region: user.region, where: userPath };
      if (user.localCredentials)
        outputsCredentials = {
          credentials: user.localCredentials,
          where: `local_credentials in ${userPath}`,
        };
    } else {
      tried.push(`${userPath}: ${"reason" in read ? read.reason : "has no api_endpoint / stream_url"}`);
    }
  }

  // Credentials: AWS_* first, then the local stack's development pair when its endpoints are local.
  const fromEnv = envCredentials(env);
  let credentials: Credentials | null = null;
  let credentialsSource = "none: requests are not signed";
  if (fromEnv) {
    credentials = fromEnv;
    credentialsSource = `environment AWS_ACCESS_KEY_ID (${fromEnv.accessKeyId.slice(0, 4)}…)`;
  } else if (outputsCredentials) {
    credentials = outputsCredentials.credentials;
    credentialsSource = outputsCredentials.where;
  } else if (local?.localCredentials && found && isLoopback(found.api ?? found.stream)) {
    credentials = local.localCredentials;
    credentialsSource = `local_credentials in ${localPath}`;
  }

  const region = found?.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? "us-east-1";
  const regionSource = found?.region
    ? `client_config in ${found.where}`
    : env.AWS_REGION
      ? "environment AWS_REGION"
      : env.AWS_DEFAULT_REGION
        ? "environment AWS_DEFAULT_REGION"
        : "default (AWS URLs carry their own region)";
  return {
    apiEndpoint: found?.api ?? null,
    streamUrl: found?.stream ?? null,
    region,
    credentials,
    source: { endpoints: found?.where ?? "nowhere", region: regionSource, credentials: credentialsSource },
    tried,
  };
}

function isLoopback(url: string | null): boolean {
  if (!url) return false;
  try {
    const h = new URL(url).hostname;
    return h === "localhost" || h === "[::1]" || h.startsWith("127.");
  } catch {
    return false;
  }
}

/** The error a command raises when an endpoint it needs was not found anywhere. */
export function missingEndpoint(what: "API endpoint" | "stream URL", d: Discovered): DiscoveryError {
  const flag = what === "API endpoint" ? "--api-endpoint" : "--stream-url";
  const envName = what === "API endpoint" ? "STEPSTREAM_API_ENDPOINT" : "STEPSTREAM_STREAM_URL";
  return new DiscoveryError(
    `no ${what} found. Start the local stack (make local), deploy (make deploy), or pass ${flag} / set ${envName}.`,
    d.tried,
  );
}

/** Endpoints found in one place, and the place (for `stepstream config`). */
type Found = { api: string | null; stream: string | null; region: string | null; where: string };

/**
 * `terraform output -json` of one root module: the endpoints it names, or why not. `deployedOnly`
 * (the project's own `infra/`) first checks for state, so an undeployed checkout is a clear outcome
 * rather than a terraform error.
 */
async function fromTerraform(
  dir: string,
  env: NodeJS.ProcessEnv,
  where: string,
  deployedOnly: boolean,
): Promise<{ found: Found | null; outcome: string }> {
  if (!onPath("terraform", env)) return { found: null, outcome: "terraform is not on PATH" };
  if (!existsSync(dir)) return { found: null, outcome: deployedOnly ? `no ${dir}` : "no such directory" };
  if (deployedOnly && !hasTerraformState(dir))
    return { found: null, outcome: `no state in ${dir} (not deployed: make deploy)` };
  try {
    const parsed = parseOutputs(await terraformOutputs(dir, env));
    if (!parsed.apiEndpoint && !parsed.streamUrl)
      return {
        found: null,
        outcome: deployedOnly
          ? "no api_endpoint / stream_url outputs"
          : "no api_endpoint / stream_url / client_config output",
      };
    return {
      found: { api: parsed.apiEndpoint, stream: parsed.streamUrl, region: parsed.region, where },
      outcome: "found",
    };
  } catch (err) {
    return { found: null, outcome: `failed: ${(err as Error).message}` };
  }
}
