import { existsSync, readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { renderTemplate } from "./asl.js";

/**
 * Your own workflow on the local stack: your ASL and your handlers, run by the same emulators as
 * the simulated workflow. Given as `--definition FILE --function NAME=FILE …` (or `definition` and
 * `functions` in `startStack`'s options).
 */
export interface UserWorkflowOptions {
  /**
   * The state machine's definition: an ASL JSON file, or a template (`.tftpl`) rendered as
   * Terraform's `templatefile` renders it, with `vars`.
   */
  definition: string;
  /**
   * The template's variables (`--var NAME=VALUE`). As the Terraform module does, the template also
   * gets `<name>_function_arn` for every function (its local ARN), so one template serves both.
   */
  vars?: Record<string, string>;
  /**
   * The Lambda functions the ASL invokes: function name → the file of its handler (an ES module or
   * CommonJS file exporting `handler`, as a Lambda zip's entry point would). The ASL's
   * `FunctionName` may be the name, its ARN in the local account, or a partial ARN.
   */
  functions: Record<string, string>;
}

/** What Lambda accepts as a function name (`CreateFunction`'s FunctionName). */
const FUNCTION_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** A problem with the user's workflow, reported before anything starts. */
export class UserWorkflowError extends Error {
  override readonly name = "UserWorkflowError";
  readonly code = "InvalidWorkflow";
}

/**
 * The function a `lambda:invoke` FunctionName designates, as Lambda resolves it: a name
 * (`my-function`, `my-function:alias`), a full ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`)
 * or a partial ARN (`ACCOUNT:function:NAME`). An ARN in another region or account is not this
 * stack's function (as on AWS, where it would be another account's). Returns the name, or a reason.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestSyntax
 */
export function functionNameOf(
  functionName: string,
  region: string,
  account: string,
): { name: string } | { reason: string } {
  const parts = functionName.split(":");
  let name: string | undefined;
  if (parts[0] === "arn") {
    if (parts.length < 7 || parts.length > 8 || parts[2] !== "lambda" || parts[5] !== "function") {
      return { reason: `${functionName} is not a Lambda function ARN` };
    }
    if (parts[3] !== region || parts[4] !== account) {
      return {
        reason: `${functionName} is in ${parts[3]}/${parts[4]}; the local stack's functions are in ${region}/${account} (use the function's name, or a template variable)`,
      };
    }
    name = parts[6];
  } else if (parts.length >= 3 && parts[1] === "function") {
    if (parts[0] !== account) return { reason: `${functionName} is in account ${parts[0]}, not ${account}` };
    name = parts[2];
  } else if (parts.length <= 2) {
    name = parts[0];
  }
  if (!name || !FUNCTION_NAME_RE.test(name)) return { reason: `${functionName} is not a function name` };
  return { name };
}

interface State {
  Type?: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ItemProcessor?: { States?: Record<string, State> };
  Iterator?: { States?: Record<string, State> };
  Branches?: { States?: Record<string, State> }[];
}

/** Every Task state, at any depth (Map item processors and Parallel branches included). */
function taskStates(
  states: Record<string, State> | undefined,
  out: [string, State][] = [],
): [string, State][] {
  for (const [name, state] of Object.entries(states ?? {})) {
    if (state?.Type === "Task") out.push([name, state]);
    taskStates(state?.ItemProcessor?.States ?? state?.Iterator?.States, out);
    for (const b of state?.Branches ?? []) taskStates(b.States, out);
  }
  return out;
}

/** The definition to run and the handler file of each function, checked. */
export interface LoadedUserWorkflow {
  definition: string;
  functions: Map<string, string>;
}

/**
 * Reads and checks the user's workflow before anything starts: the definition renders and is JSON
 * with `States`; every Task is a `lambda:invoke` (the only integration the local stack runs); every
 * static `FunctionName` resolves to one of `functions`; every handler file exists.
 */
export function loadUserWorkflow(
  o: UserWorkflowOptions,
  region: string,
  account: string,
): LoadedUserWorkflow {
  const file = resolve(o.definition);
  if (!existsSync(file)) throw new UserWorkflowError(`--definition ${o.definition}: no such file (${file})`);
  const source = readFileSync(file, "utf8");
  const arns = Object.fromEntries(
    Object.keys(o.functions).map((name) => [
      `${name}_function_arn`,
      `arn:aws:lambda:${region}:${account}:function:${name}`,
    ]),
  );
  let definition: string;
  try {
    definition =
      extname(file) === ".tftpl" ? renderTemplate(source, { ...arns, ...o.vars }, o.definition) : source;
  } catch (err) {
    throw new UserWorkflowError((err as Error).message);
  }
  if (extname(file) !== ".tftpl" && o.vars && Object.keys(o.vars).length > 0) {
    throw new UserWorkflowError(
      `--var is for templates: ${o.definition} is not a .tftpl file, so it is used as it is`,
    );
  }
  let asl: { StartAt?: unknown; States?: Record<string, State> };
  try {
    asl = JSON.parse(definition);
  } catch (err) {
    throw new UserWorkflowError(`${o.definition} is not JSON once rendered: ${(err as Error).message}`);
  }
  if (asl === null || typeof asl !== "object" || typeof asl.States !== "object" || asl.States === null) {
    throw new UserWorkflowError(`${o.definition} is not an ASL state machine (no States)`);
  }

  const functions = new Map<string, string>();
  for (const [name, handlerFile] of Object.entries(o.functions)) {
    if (!FUNCTION_NAME_RE.test(name)) {
      throw new UserWorkflowError(
        `--function ${name}=…: a function name is 1-64 letters, digits, hyphens or underscores`,
      );
    }
    const path = resolve(handlerFile);
    if (!existsSync(path))
      throw new UserWorkflowError(`--function ${name}=${handlerFile}: no such file (${path})`);
    functions.set(name, path);
  }

  for (const [stateName, state] of taskStates(asl.States)) {
    const resource = String(state.Resource);
    if (resource !== "arn:aws:states:::lambda:invoke") {
      throw new UserWorkflowError(
        `state ${stateName}: Resource ${resource} is not run by the local stack; it runs Task states with "Resource": "arn:aws:states:::lambda:invoke" (Parameters FunctionName and Payload)`,
      );
    }
    const fn = state.Parameters?.FunctionName;
    if (fn === undefined) {
      if (state.Parameters?.["FunctionName.$"] !== undefined) continue; // resolved when invoked
      throw new UserWorkflowError(`state ${stateName}: lambda:invoke without Parameters.FunctionName`);
    }
    const resolved = functionNameOf(String(fn), region, account);
    if ("reason" in resolved) throw new UserWorkflowError(`state ${stateName}: ${resolved.reason}`);
    if (!functions.has(resolved.name)) {
      throw new UserWorkflowError(
        `state ${stateName} invokes ${String(fn)}, which no --function provides (--function ${resolved.name}=./path/to/handler.mjs)`,
      );
    }
  }
  return { definition, functions };
}
