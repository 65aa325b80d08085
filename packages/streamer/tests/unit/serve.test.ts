import { describe, expect, it } from "vitest";
import type { StreamerConfig } from "../../src/config.js";
import { loadStreamerConfig } from "../../src/config.js";
import { parseStreamRequest } from "../../src/request.js";
import { serve } from "../../src/serve.js";
import { ARN, MemoryReader, RecordingSink, STATE_MACHINE_ARN } from "./fakes.js";

const cfg: StreamerConfig = {
  tableName: "t",
  stateMachineArn: STATE_MACHINE_ARN,
  pollIntervalMs: 5,
  maxPollIntervalMs: 10,
  streamTimeoutMs: 2000,
  heartbeatMs: 20,
  longPollMs: 200,
  pageSize: 100,
  deadlineMarginMs: 100,
  finalResultField: "FinalResult",
  maxConnectionMs: 60_000,
  maxExecutionMs: 330_000,
};
const event = (query: string, method = "GET") => ({
  rawPath: "/",
  rawQueryString: query,
  requestContext: { http: { method } },
});
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe("serve: default JSON Lines (the sample's stream)", () => {
  it("streams every record, one per line, the last with FinalResult, then ends", async () => {
    // Prepare
    const reader = new MemoryReader();
    for (let i = 0; i < 4; i++) reader.add(i);
    reader.add(4, "final");
    const sink = new RecordingSink();
    // Act
    const out = await serve(event(q({ executionArn: ARN })), cfg, reader, sink, Date.now() + 5000);
    // Assess
    expect(out).toMatchObject({ status: "ok", mode: "jsonl-default", delivered: 5, reason: "terminal" });
    expect(sink.status).toBe(200);
    expect(sink.headers["content-type"]).toMatch(/ndjson/);
    const lines = sink.lines() as Record<string, unknown>[];
    expect(lines.map((l) => l.Result)).toEqual([0, 1, 2, 3, 4].map((i) => `This is simulated result ${i}`));
    expect(lines.at(-1)?.FinalResult).toBe(true);
    expect(sink.ended).toBe(true);
  });

  it("writes each record as soon as it is read (one chunk per poll that found records)", async () => {
    const reader = new MemoryReader();
    reader.add(0);
    const sink = new RecordingSink();
    const writes: number[] = [];
    const origWrite = sink.write.bind(sink);
    sink.write = async (c) => {
      writes.push(Date.now());
      if (writes.length === 1) setTimeout(() => reader.add(1, "final"), 30);
      return origWrite(c);
    };
    await serve(event(q({ executionArn: ARN })), cfg, reader, sink, Date.now() + 5000);
    expect(sink.chunks).toHaveLength(2);
  });

  it("live=jsonl resumes after an offset and sends heartbeats while idle", async () => {
    const reader = new MemoryReader();
    reader.add(0);
    reader.add(1);
    setTimeout(() => reader.add(2, "final"), 120);
    const sink = new RecordingSink();
    await serve(
      event(q({ executionArn: ARN, offset: "0000000000000000", live: "jsonl" })),
      cfg,
      reader,
      sink,
      Date.now() + 5000,
    );
    const lines = sink.lines() as { Offset: string }[];
    expect(lines.map((l) => l.Offset)).toEqual(["0000000000000001", "0000000000000002"]);
    expect(sink.chunks.filter((c) => c === "\n").length).toBeGreaterThan(0);
  });

  it("ends cleanly at its deadline without a terminal record", async () => {
    const reader = new MemoryReader();
    reader.add(0);
    const sink = new RecordingSink();
    const out = await serve(event(q({ executionArn: ARN })), cfg, reader, sink, Date.now() + 100);
    expect(out.reason).toBe("deadline");
    expect(sink.ended).toBe(true);
    expect(sink.lines()).toHaveLength(1);
  });

  it("answers 4xx JSON errors for bad requests without reading the table", async () => {
    const cases: [string, string, number, string][] = [
      ["no ARN", "", 400, "BadRequest"],
      ["bad offset", q({ executionArn: ARN, offset: "12" }), 400, "InvalidOffset"],
      ["bad mode", q({ executionArn: ARN, live: "websocket" }), 400, "BadRequest"],
      ["other state machine", q({ executionArn: ARN.replace(":stepstream:", ":other:") }), 404, "NotFound"],
      ["not an ARN", q({ executionArn: "../../etc/passwd" }), 400, "InvalidArn"],
      ["duplicate ARN", `${q({ executionArn: ARN })}&${q({ executionArn: ARN })}`, 400, "BadRequest"],
      ["huge query", q({ executionArn: ARN, x: "y".repeat(3000) }), 400, "BadRequest"],
    ];
    for (const [name, query, status, code] of cases) {
      const reader = new MemoryReader();
      const sink = new RecordingSink();
      const out = await serve(event(query), cfg, reader, sink, Date.now() + 1000);
      expect({
        name,
        status: sink.status,
        code: (JSON.parse(sink.body) as { error: { code: string } }).error.code,
      }).toEqual({ name, status, code });
      expect(out.status).toBe("rejected");
      expect(reader.reads).toBe(0);
    }
    const sink = new RecordingSink();
    await serve(event(q({ executionArn: ARN }), "POST"), cfg, new MemoryReader(), sink, Date.now() + 1000);
    expect(sink.status).toBe(405);
  });

  it("answers 500 with a generic message when the store fails, and keeps details out of the body", async () => {
    const reader = new MemoryReader();
    reader.readAfter = async () => {
      throw new Error("connect ECONNREFUSED 10.0.0.1:443 secret-detail");
    };
    reader.headSeq = reader.readAfter as never;
    const sink = new RecordingSink();
    const out = await serve(
      event(q({ executionArn: ARN, offset: "-1" })),
      cfg,
      reader,
      sink,
      Date.now() + 1000,
    );
    expect(out.status).toBe("error");
    expect(sink.status).toBe(500);
    expect(sink.body).not.toContain("secret-detail");
  });
});

describe("request parsing", () => {
  it("decodes the ARN exactly once", () => {
    const once = parseStreamRequest(event(q({ executionArn: ARN })), STATE_MACHINE_ARN);
    expect(once.executionArn).toBe(ARN);
    expect(() =>
      parseStreamRequest(event(q({ executionArn: encodeURIComponent(ARN) })), STATE_MACHINE_ARN),
    ).toThrow();
  });
});

describe("configuration", () => {
  it("parses the environment with defaults, and refuses bad values with a readable error", () => {
    const c = loadStreamerConfig({ TABLE_NAME: "tbl", STATE_MACHINE_ARN });
    expect(c).toMatchObject({
      pollIntervalMs: 50,
      maxPollIntervalMs: 500,
      streamTimeoutMs: 360_000,
      finalResultField: "FinalResult",
    });
    expect(() => loadStreamerConfig({ TABLE_NAME: "tbl", STATE_MACHINE_ARN, POLL_INTERVAL_MS: "1" })).toThrow(
      "invalid streamer configuration: POLL_INTERVAL_MS: Too small: expected number to be >=10",
    );
    expect(() => loadStreamerConfig({ TABLE_NAME: "tbl" })).toThrow(/STATE_MACHINE_ARN/);
  });
});
