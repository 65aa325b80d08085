import { describe, expect, it } from "vitest";
import {
  decodeOffset,
  encodeOffset,
  offsetAfter,
  parseReadPosition,
  StepstreamError,
} from "../../src/index.js";

describe("offsets", () => {
  it("round-trip sequence numbers and sort lexicographically in sequence order", () => {
    // Prepare
    const seqs = [0, 1, 9, 10, 99, 100, 12345, 2 ** 40, Number.MAX_SAFE_INTEGER];
    // Act
    const offsets = seqs.map(encodeOffset);
    // Assess
    expect(offsets.map(decodeOffset)).toEqual(seqs);
    expect([...offsets].sort()).toEqual(offsets);
    expect(offsets.every((o) => o.length === 16)).toBe(true);
  });

  it("sorts any two random sequence numbers the same way as strings and as numbers", () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 1000; i++) {
      const a = rand() * (rand() % 1000);
      const b = rand() * (rand() % 1000);
      expect(Math.sign(encodeOffset(a).localeCompare(encodeOffset(b)))).toBe(Math.sign(a - b));
    }
  });

  it.each([
    ["-2"],
    ["abc"],
    ["123"],
    ["00000000000000001"],
    ["000000000000000a"],
    [" 0000000000000001"],
    ["1e3"],
    [""],
  ])("rejects the malformed offset %j with InvalidOffset", (raw) => {
    expect(() => parseReadPosition(raw)).toThrow(StepstreamError);
    try {
      parseReadPosition(raw);
    } catch (err) {
      expect((err as StepstreamError).code).toBe("InvalidOffset");
    }
  });

  it("parses the sentinels and positions", () => {
    expect(parseReadPosition(undefined)).toEqual({ kind: "after", seq: -1 });
    expect(parseReadPosition("-1")).toEqual({ kind: "after", seq: -1 });
    expect(parseReadPosition("now")).toEqual({ kind: "now" });
    expect(parseReadPosition("0000000000000007")).toEqual({ kind: "after", seq: 7 });
    expect(offsetAfter(-1)).toBe("-000000000000001"); // never the sentinel -1 (Durable Streams §8)
    expect(parseReadPosition("-000000000000001")).toEqual({ kind: "after", seq: -1 });
    expect(offsetAfter(3)).toBe("0000000000000003");
  });

  it("refuses to encode negative or fractional sequence numbers", () => {
    expect(() => encodeOffset(-1)).toThrow(StepstreamError);
    expect(() => encodeOffset(1.5)).toThrow(StepstreamError);
  });
});

import { executionNameFor, startTimeOfExecution } from "../../src/index.js";

describe("execution names carrying their start time", () => {
  it("round-trips the start time through a name and an ARN, within Step Functions' 80 characters", () => {
    const name = executionNameFor(1764625395123, "6f1c2a9e-0b7d-4d1e-9c3f-2a1b0c9d8e7f".repeat(3));
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(startTimeOfExecution(name)).toBe(1764625395123);
    expect(startTimeOfExecution(`arn:aws:states:us-east-1:123456789012:express:sm:${name}:0f8e`)).toBe(
      1764625395123,
    );
    expect(startTimeOfExecution("my-own-name")).toBeUndefined();
    expect(executionNameFor(1764625395123, "a b/c")).toBe("ss-1764625395123-abc");
  });
});
