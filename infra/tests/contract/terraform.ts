/**
 * Runs `terraform console` to evaluate an expression exactly as Terraform does (offline: an empty
 * working directory needs no provider and no init).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** `STEPSTREAM_SKIP_TERRAFORM=1` lets machines without terraform skip (never silently). */
export const SKIP_TERRAFORM = process.env.STEPSTREAM_SKIP_TERRAFORM === "1";

export function terraformAvailable(): boolean {
  return spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;
}

/** Fails loudly when terraform is missing, unless STEPSTREAM_SKIP_TERRAFORM=1. */
export function requireTerraform(): boolean {
  if (terraformAvailable()) return true;
  if (SKIP_TERRAFORM) {
    console.warn("!!! terraform is not on PATH: skipping the Terraform render (STEPSTREAM_SKIP_TERRAFORM=1)");
    return false;
  }
  throw new Error(
    "terraform is not on PATH: install Terraform >= 1.7 (https://developer.hashicorp.com/terraform/install), " +
      "or set STEPSTREAM_SKIP_TERRAFORM=1 to skip the Terraform checks on this machine",
  );
}

function consoleEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // A CLI config file that does not exist makes terraform warn on every call.
  if (env.TF_CLI_CONFIG_FILE && !existsSync(env.TF_CLI_CONFIG_FILE)) delete env.TF_CLI_CONFIG_FILE;
  return env;
}

/** Evaluates an HCL expression that yields a string, and returns that string byte for byte. */
export function evaluateString(expression: string): string {
  const dir = mkdtempSync(join(tmpdir(), "stepstream-tf-console-"));
  try {
    // base64 keeps the bytes exact: console prints strings in HCL quoting otherwise.
    const r = spawnSync("terraform", ["console"], {
      cwd: dir,
      input: `base64encode(${expression})\n`,
      encoding: "utf8",
      env: consoleEnv(),
    });
    if (r.status !== 0) throw new Error(`terraform console failed (${r.status}): ${r.stderr}`);
    const m = /"([A-Za-z0-9+/=]*)"/.exec(r.stdout);
    if (!m?.[1]) throw new Error(`terraform console printed no string: ${r.stdout}`);
    return Buffer.from(m[1], "base64").toString("utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** HCL string literal (JSON string syntax is a subset that HCL reads the same way, `${` aside). */
export function hclString(s: string): string {
  return JSON.stringify(s).replaceAll("${", "$${").replaceAll("%{", "%%{");
}
