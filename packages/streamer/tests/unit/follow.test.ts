import { describe, expect, it } from "vitest";
import { type FollowEvent, follow } from "../../src/follow.js";
import { ARN, fakeClock, MemoryReader } from "./fakes.js";

const base = {
  executionArn: ARN,
  pageSize: 100,
  pollIntervalMs: 50,
  maxPollIntervalMs: 500,
  idleTimeoutMs: 60_000,
};

async function collect(
  gen: AsyncGenerator<FollowEvent>,
  onEvent?: (e: FollowEvent) => void,
): Promise<FollowEvent[]> {
  const out: FollowEvent[] = [];
  for await (const e of gen) {
    out.push(e);
    onEvent?.(e);
  }
  return out;
}
const delivered = (events: FollowEvent[]) =>
  events.flatMap((e) => (e.kind === "records" ? e.records.map((r) => r.Offset) : []));

describe("follow", () => {
  it("delivers every record once, in order, and ends after the terminal record", async () => {
    // Prepare
    const reader = new MemoryReader();
    for (let i = 0; i < 4; i++) reader.add(i);
    reader.add(4, "final");
    const clock = fakeClock();
    // Act
    const events = await collect(
      follow({
        ...base,
        reader,
        afterSeq: -1,
        stopAt: clock.now() + 10_000,
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    // Assess
    expect(delivered(events)).toEqual([
      "0000000000000000",
      "0000000000000001",
      "0000000000000002",
      "0000000000000003",
      "0000000000000004",
    ]);
    expect(events.at(-1)).toEqual({ kind: "end", reason: "terminal", afterSeq: 4 });
  });

  it("waits at a gap instead of skipping the missing record (out-of-order visibility)", async () => {
    // Prepare: 0 and 2 are visible, 1 is not yet.
    const reader = new MemoryReader();
    reader.add(0);
    reader.add(2);
    const clock = fakeClock();
    let polls = 0;
    // Act: the missing record appears after two idle polls.
    const events = await collect(
      follow({
        ...base,
        reader,
        afterSeq: -1,
        stopAt: clock.now() + 10_000,
        now: clock.now,
        sleep: clock.sleep,
      }),
      (e) => {
        if (e.kind === "idle" && ++polls === 2) {
          reader.add(1);
          reader.add(3, "final");
        }
      },
    );
    // Assess
    expect(delivered(events)).toEqual([
      "0000000000000000",
      "0000000000000001",
      "0000000000000002",
      "0000000000000003",
    ]);
  });

  it("resumes after an offset without repeating what was delivered", async () => {
    const reader = new MemoryReader();
    for (let i = 0; i < 5; i++) reader.add(i, i === 4 ? "final" : "result");
    const clock = fakeClock();
    const events = await collect(
      follow({
        ...base,
        reader,
        afterSeq: 2,
        stopAt: clock.now() + 1000,
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    expect(delivered(events)).toEqual(["0000000000000003", "0000000000000004"]);
  });

  it("passes over expired records without stalling", async () => {
    const reader = new MemoryReader();
    reader.add(0);
    reader.add(1, "result", null);
    reader.add(2, "final");
    const clock = fakeClock();
    const events = await collect(
      follow({
        ...base,
        reader,
        afterSeq: -1,
        stopAt: clock.now() + 1000,
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    expect(delivered(events)).toEqual(["0000000000000000", "0000000000000002"]);
  });

  it("backs off ×4/3 per empty poll up to the maximum, and resets when records arrive", async () => {
    const reader = new MemoryReader();
    const clock = fakeClock();
    let idle = 0;
    await collect(
      follow({
        ...base,
        reader,
        afterSeq: -1,
        stopAt: clock.now() + 100_000,
        now: clock.now,
        sleep: clock.sleep,
      }),
      (e) => {
        if (e.kind === "idle") idle++;
        if (idle === 9 && e.kind === "idle") reader.add(0, "final");
      },
    );
    expect(clock.sleeps.slice(0, 9)).toEqual([50, 67, 89, 119, 159, 212, 283, 377, 500]);
  });

  it("ends with a synthetic timeout record when nothing arrives for idleTimeoutMs", async () => {
    const reader = new MemoryReader();
    const clock = fakeClock();
    const events = await collect(
      follow({
        ...base,
        idleTimeoutMs: 3000,
        reader,
        afterSeq: -1,
        stopAt: clock.now() + 100_000,
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    const last = events.at(-2);
    expect(last?.kind).toBe("records");
    if (last?.kind === "records") {
      expect(last.records[0]).toMatchObject({
        Type: "timeout",
        Synthetic: true,
        Error: { Error: "StreamTimeout" },
      });
    }
    expect(events.at(-1)).toMatchObject({ kind: "end", reason: "timeout" });
    expect(clock.now() - 1_000_000).toBeGreaterThanOrEqual(3000);
    expect(clock.now() - 1_000_000).toBeLessThan(3000 + 500);
  });

  it("stops cleanly at its deadline with the position reached", async () => {
    const reader = new MemoryReader();
    reader.add(0);
    const clock = fakeClock();
    const events = await collect(
      follow({
        ...base,
        reader,
        afterSeq: -1,
        stopAt: clock.now() + 2000,
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    expect(events.at(-1)).toEqual({ kind: "end", reason: "deadline", afterSeq: 0 });
    expect(clock.now()).toBeLessThanOrEqual(1_000_000 + 2000);
  });

  it("reads full pages back to back (catch-up) without sleeping", async () => {
    const reader = new MemoryReader();
    for (let i = 0; i < 250; i++) reader.add(i, i === 249 ? "final" : "result");
    const clock = fakeClock();
    const events = await collect(
      follow({
        ...base,
        pageSize: 100,
        reader,
        afterSeq: -1,
        stopAt: clock.now() + 1000,
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    expect(delivered(events)).toHaveLength(250);
    expect(reader.reads).toBe(3);
    expect(clock.sleeps).toEqual([]);
  });

  it("with live: false ends when caught up", async () => {
    const reader = new MemoryReader();
    reader.add(0);
    const clock = fakeClock();
    const events = await collect(
      follow({
        ...base,
        live: false,
        reader,
        afterSeq: -1,
        stopAt: clock.now() + 1000,
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    expect(delivered(events)).toEqual(["0000000000000000"]);
    expect(events.at(-1)).toEqual({ kind: "end", reason: "caught-up", afterSeq: 0 });
  });

  it("stops on abort", async () => {
    const reader = new MemoryReader();
    const ac = new AbortController();
    const clock = fakeClock();
    const events = await collect(
      follow({
        ...base,
        reader,
        afterSeq: -1,
        stopAt: clock.now() + 100_000,
        now: clock.now,
        sleep: clock.sleep,
        signal: ac.signal,
      }),
      (e) => {
        if (e.kind === "idle") ac.abort();
      },
    );
    expect(events.at(-1)).toMatchObject({ kind: "end", reason: "aborted" });
  });
});
