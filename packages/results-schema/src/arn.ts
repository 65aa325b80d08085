import { StepstreamError } from "./errors.js";

/** The parts of a Step Functions execution ARN. */
export interface ExecutionArnParts {
  partition: string;
  region: string;
  account: string;
  /** `express` for Express executions, `execution` for Standard ones. */
  kind: "express" | "execution";
  stateMachineName: string;
  executionName: string;
  /** Express executions carry an extra id after the name. */
  executionId?: string;
}

const NAME = "[A-Za-z0-9_-]{1,80}";
const EXECUTION_ARN = new RegExp(
  `^arn:(aws[a-z-]{0,20}):states:([a-z]{2}(?:-[a-z]+)+-\\d):(\\d{12}):(express|execution):(${NAME}):(${NAME})(?::([A-Za-z0-9-]{1,80}))?$`,
);

/** Longest execution ARN we accept (AWS limit is 256 characters). */
export const MAX_EXECUTION_ARN_LENGTH = 256;

/**
 * Parses a Step Functions execution ARN, or throws `InvalidArn`.
 *
 * @example
 * ```ts
 * parseExecutionArn("arn:aws:states:us-east-1:123456789012:express:sm:run-1:0f8e…").stateMachineName; // "sm"
 * ```
 */
export function parseExecutionArn(arn: string): ExecutionArnParts {
  if (arn.length > MAX_EXECUTION_ARN_LENGTH) {
    throw new StepstreamError(
      "InvalidArn",
      `executionArn is longer than ${MAX_EXECUTION_ARN_LENGTH} characters`,
    );
  }
  const m = EXECUTION_ARN.exec(arn);
  if (!m) {
    throw new StepstreamError(
      "InvalidArn",
      "executionArn is not a Step Functions execution ARN (arn:aws:states:<region>:<account>:express:<stateMachine>:<name>:<id>)",
    );
  }
  const [, partition, region, account, kind, stateMachineName, executionName, executionId] = m;
  return {
    partition: partition as string,
    region: region as string,
    account: account as string,
    kind: kind as "express" | "execution",
    stateMachineName: stateMachineName as string,
    executionName: executionName as string,
    ...(executionId ? { executionId } : {}),
  };
}

/** The state machine ARN an execution ARN belongs to. */
export function stateMachineArnOf(arn: string): string {
  const p = parseExecutionArn(arn);
  return `arn:${p.partition}:states:${p.region}:${p.account}:stateMachine:${p.stateMachineName}`;
}
