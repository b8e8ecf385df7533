/** Reading engine outputs files (engines/outputs-file.ts) and counting plan changes. */
import { describe, expect, it } from "vitest";
import { countChanges } from "../src/engines/opentofu.js";
import { parseOutputsText } from "../src/engines/outputs-file.js";

describe("outputs", () => {
  it("reads JSON (plain and tofu-shaped) and KEY=VALUE outputs files", () => {
    const json = parseOutputsText('{"a": "1", "n": 3, "t": {"value": "s", "sensitive": true}}', "f");
    expect(json.values).toEqual({ a: "1", n: 3, t: "s" });
    expect([...json.sensitive]).toEqual(["t"]);
    const kv = parseOutputsText("# c\nkubeconfig=/x/y\nlab_dir='/a b'\n", "f");
    expect(kv.values).toEqual({ kubeconfig: "/x/y", lab_dir: "/a b" });
  });

  it("counts plan changes like tofu (replace = add + destroy)", () => {
    const show = JSON.stringify({
      resource_changes: [
        { change: { actions: ["create"] } },
        { change: { actions: ["update"] } },
        { change: { actions: ["delete", "create"] } },
        { change: { actions: ["no-op"] } },
        { change: { actions: ["delete"] } },
      ],
    });
    expect(countChanges(show)).toEqual({ add: 2, change: 1, destroy: 2 });
  });
});
