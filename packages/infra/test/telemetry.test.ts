/** The telemetry allowlist (state/telemetry.ts). */
import { describe, expect, it } from "vitest";
import { allowlistEvent } from "../src/state/telemetry.js";

describe("telemetry allowlist", () => {
  it("keeps only allowlisted scalar fields", () => {
    const out = allowlistEvent({
      event: "command.completed",
      ts: "2026-01-01T00:00:00.000Z",
      runId: "r",
      correlationId: "c",
      instance: "my-host.example.com",
      profile: "local-lab",
      exitCode: 0,
      host: "10.0.0.1",
      message: "secret here",
      changes: { add: 1, change: 0, destroy: 0, extra: "x" },
    });
    expect(out).toEqual({
      event: "command.completed",
      ts: "2026-01-01T00:00:00.000Z",
      runId: "r",
      correlationId: "c",
      profile: "local-lab",
      exitCode: 0,
      changes: { add: 1, change: 0, destroy: 0 },
    });
  });
});
