/**
 * Rules every stepstream ASL definition keeps so that each run a Catch can see ends its readers'
 * streams with a terminal record (issue 11, items 4 and 5):
 * - every Task has its own `TimeoutSeconds` (or `TimeoutSecondsPath`): a task's timeout is the
 *   error `States.Timeout`, which a Catch can catch, unlike the state machine's own `TimeoutSeconds`
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html);
 * - every `lambda:invoke` Task retries Lambda's transient service errors as AWS recommends
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html) and
 *   `Lambda.TooManyRequestsException` (throttling: "When Lambda hits the maximum number of
 *   invocations") with a back-off of its own;
 * - every top-level state that can fail (Task, Map, Parallel) other than the recorder catches
 *   `States.ALL` into the recorder, the Task that writes the terminal error/timeout record.
 */

// biome-ignore lint/suspicious/noExplicitAny: ASL is untyped JSON here.
type State = Record<string, any>;

export const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
];

/** Every state, nested ones (Map ItemProcessor/Iterator, Parallel Branches) included, by path. */
export function allStates(states: Record<string, State>, prefix = ""): [string, State][] {
  const out: [string, State][] = [];
  for (const [name, s] of Object.entries(states)) {
    const path = `${prefix}${name}`;
    out.push([path, s]);
    const processor = s.ItemProcessor ?? s.Iterator;
    if (processor?.States) out.push(...allStates(processor.States, `${path}/`));
    for (const [i, b] of (s.Branches ?? []).entries()) out.push(...allStates(b.States, `${path}[${i}]/`));
  }
  return out;
}

/** What is wrong with a definition under the rules above (empty: nothing). */
export function terminalRecordProblems(
  definition: { States: Record<string, State> },
  recorder: string,
): string[] {
  const problems: string[] = [];
  if (definition.States[recorder]?.Type !== "Task")
    problems.push(`no Task state ${recorder} writes the terminal record`);
  for (const [path, s] of allStates(definition.States)) {
    if (s.Type !== "Task") continue;
    if (typeof s.TimeoutSeconds !== "number" && typeof s.TimeoutSecondsPath !== "string")
      problems.push(`${path}: a Task without TimeoutSeconds (its timeout could not be caught)`);
    if (String(s.Resource).startsWith("arn:aws:states:::lambda:invoke")) {
      const retries: State[] = s.Retry ?? [];
      const covers = (e: string) =>
        retries.some(
          (r) => (r.ErrorEquals ?? []).includes(e) || (r.ErrorEquals ?? []).includes("States.ALL"),
        );
      for (const e of [...LAMBDA_SERVICE_ERRORS, "Lambda.TooManyRequestsException"])
        if (!covers(e)) problems.push(`${path}: does not retry ${e}`);
      const throttle = retries.find((r) => (r.ErrorEquals ?? []).includes("Lambda.TooManyRequestsException"));
      if (throttle && (throttle.MaxAttempts ?? 3) < 6)
        problems.push(
          `${path}: retries Lambda.TooManyRequestsException only ${throttle.MaxAttempts ?? 3} times`,
        );
    }
  }
  for (const [name, s] of Object.entries(definition.States)) {
    if (name === recorder || !["Task", "Map", "Parallel"].includes(s.Type)) continue;
    const catchAll = (s.Catch ?? []).find((c: State) => (c.ErrorEquals ?? []).includes("States.ALL"));
    if (catchAll?.Next !== recorder) problems.push(`${name}: does not catch States.ALL into ${recorder}`);
  }
  return problems;
}
