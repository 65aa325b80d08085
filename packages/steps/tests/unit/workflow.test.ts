import { StepstreamError } from "@stepstream/results-schema";
import { describe, expect, it } from "vitest";
import { planWorkflow, sanitizeError, simulatedResult } from "../../src/index.js";

const ARN = "arn:aws:states:us-east-1:123456789012:express:stepstream:run-1:0f8e2b7c";

describe("planWorkflow", () => {
  it("plans the sample's run by default: 5 results, one at a time, the default wait", () => {
    expect(planWorkflow({}, ARN, 7)).toEqual({
      executionArn: ARN,
      items: [0, 1, 2, 3, 4],
      count: 5,
      lastIndex: 4,
      concurrency: 1,
      waitSeconds: 7,
      stepDurationMs: 0,
      stepJitterMs: 0,
      failAt: -1,
    });
    expect(planWorkflow(null, ARN, 7).count).toBe(5);
    expect(simulatedResult(0)).toBe("This is simulated result 0");
  });

  it("takes its shape from the input", () => {
    const p = planWorkflow(
      {
        count: 20,
        concurrency: 5,
        stepWaitSeconds: 0,
        stepDurationMs: 10,
        stepJitterMs: 5,
        failAt: 3,
      },
      ARN,
      7,
    );
    expect(p).toMatchObject({
      count: 20,
      lastIndex: 19,
      concurrency: 5,
      waitSeconds: 0,
      stepDurationMs: 10,
      stepJitterMs: 5,
      failAt: 3,
    });
  });

  it("keeps whole seconds in the Wait state and moves a fractional default's remainder into step work", () => {
    expect(planWorkflow({}, ARN, 1.25)).toMatchObject({ waitSeconds: 1, stepDurationMs: 250 });
    expect(planWorkflow({ stepWaitSeconds: 2 }, ARN, 1.25)).toMatchObject({
      waitSeconds: 2,
      stepDurationMs: 0,
    });
  });

  it.each([
    [{ count: 0 }, /count/],
    [{ count: 1001 }, /count/],
    [{ count: 2.5 }, /count/],
    [{ count: "5" }, /count/],
    [{ concurrency: 0 }, /concurrency/],
    [{ concurrency: 41 }, /concurrency/],
    [{ failAt: 5 }, /failAt/],
    [{ failAt: -1 }, /failAt/],
    [{ stepWaitSeconds: 61 }, /stepWaitSeconds/],
    [{ stepDurationMs: -1 }, /stepDurationMs/],
    [{ count: 100, stepWaitSeconds: 10 }, /300 s/],
    ["not an object", /input/],
    [[1, 2], /input/],
    [{ concurency: 3 }, /concurency/],
    [{ count: 3, extra: "refused, as the API's model refuses it" }, /extra/],
  ])("rejects %j with BadRequest", (input, message) => {
    expect(() => planWorkflow(input, ARN, 7)).toThrow(StepstreamError);
    expect(() => planWorkflow(input, ARN, 7)).toThrow(message);
  });

  it("words the problem as a person reads it", () => {
    expect(() => planWorkflow({ count: 2.5 }, ARN, 7)).toThrow(
      "invalid workflow input: count: Invalid input: expected int, received number",
    );
  });
});

describe("planWorkflow with the step function's reserved concurrency", () => {
  it("refuses a concurrency above the reservation, and accepts it up to the reservation", () => {
    expect(() => planWorkflow({ concurrency: 21 }, ARN, 7, { maxConcurrency: 20 })).toThrow(
      /reserved concurrency \(20\)/,
    );
    expect(planWorkflow({ concurrency: 20 }, ARN, 7, { maxConcurrency: 20 }).concurrency).toBe(20);
    expect(planWorkflow({ concurrency: 40 }, ARN, 7).concurrency).toBe(40);
  });
});

describe("sanitizeError", () => {
  it("keeps the error name and message of a Lambda error, never its stack trace", () => {
    const cause = JSON.stringify({
      errorType: "SimulatedStepFailure",
      errorMessage: "step 2 failed",
      trace: ["at x (file.js:1:1)"],
    });
    expect(sanitizeError({ Error: "SimulatedStepFailure", Cause: cause })).toEqual({
      Error: "SimulatedStepFailure",
      Cause: "step 2 failed",
    });
  });

  it("strips stack lines from plain causes and bounds the sizes", () => {
    const out = sanitizeError({
      Error: "X".repeat(1000),
      Cause: `boom\n    at a (b.js:1:1)\n    at c (d.js:2:2)`,
    });
    expect(out.Cause).toBe("boom");
    expect(out.Error).toHaveLength(256);
  });

  it("names a missing error", () => {
    expect(sanitizeError(undefined)).toEqual({ Error: "States.Error", Cause: "States.Error" });
  });
});
