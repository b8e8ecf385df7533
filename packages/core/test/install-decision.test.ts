/** install vs upgrade vs nothing to do (operations/install-decision.ts). */
import { describe, expect, it } from "vitest";
import { decideAction } from "../src/operations/install-decision.js";
import type { InstallRecord } from "../src/records/schema.js";

describe("decideAction", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  const fingerprint = `hmac-sha256:${"c".repeat(64)}`;
  const rec = (over: Partial<InstallRecord>): InstallRecord => ({
    schemaVersion: 1,
    name: "x",
    version: "1.0.0",
    digest,
    namespace: "x",
    valuesFingerprint: fingerprint,
    status: "deployed",
    action: "install",
    steps: [],
    runId: "r",
    runLog: "/l",
    dependencies: [],
    context: "c",
    installedAt: "t",
    updatedAt: "t",
    history: [],
    ...over,
  });
  it("is a no-op for the same version and digest, upgrades otherwise", () => {
    const w = { version: "1.0.0", digest, valuesFingerprint: fingerprint, namespace: "x" };
    expect(decideAction(undefined, "install", w, false).action).toBe("install");
    expect(decideAction(rec({}), "install", w, false).action).toBe("none");
    expect(decideAction(rec({}), "install", w, true).action).toBe("install");
    expect(decideAction(rec({}), "install", { ...w, version: "1.1.0" }, false).action).toBe("upgrade");
    expect(decideAction(rec({}), "install", { ...w, valuesFingerprint: `hmac-sha256:${"b".repeat(64)}` }, false)).toMatchObject({
      action: "upgrade",
      note: expect.stringContaining("other values"),
    });
    expect(decideAction(rec({ valuesFingerprint: undefined }), "install", w, false)).toMatchObject({
      action: "upgrade",
      note: expect.stringContaining("without a values fingerprint"),
    });
    expect(decideAction(rec({ status: "failed" }), "install", w, false).action).toBe("install");
    expect(() => decideAction(rec({}), "install", { ...w, namespace: "y" }, false)).toThrow(/installed in namespace x, not y/);
    expect(() => decideAction(undefined, "upgrade", w, false)).toThrow(/not installed/);
  });
});
