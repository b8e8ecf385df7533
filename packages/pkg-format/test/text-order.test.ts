import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { sortProblems } from "../src/format/problem-list.js";
import { compareText } from "../src/format/text-order.js";

describe("compareText: one order on every machine", () => {
  it("orders by UTF-16 code units: capitals before small letters, '-' before digits", () => {
    expect(["b", "a", "B", "pkg42", "pkg-42", "é", "z"].sort(compareText)).toEqual(["B", "a", "b", "pkg-42", "pkg42", "z", "é"]);
  });

  it("problem lists sort by file the same whatever LANG says (localeCompare would put a.yaml before B.yaml)", () => {
    const script = `import("${fileURLToPath(new URL("../dist/format/problem-list.js", import.meta.url))}").then(({ sortProblems }) => {
      const p = [{ file: "a.yaml", severity: "error", message: "x" }, { file: "B.yaml", severity: "error", message: "y" }];
      sortProblems(p);
      process.stdout.write(p.map((x) => x.file).join(","));
    })`;
    for (const LANG of ["C", "en_US.UTF-8", "sv_SE.UTF-8"]) {
      const r = spawnSync(process.execPath, ["-e", script], { env: { ...process.env, LANG, LC_ALL: LANG }, encoding: "utf8" });
      expect(r.stdout, `LANG=${LANG}`).toBe("B.yaml,a.yaml");
    }
    const inProcess = [
      { file: "a.yaml", severity: "error" as const, message: "x" },
      { file: "B.yaml", severity: "error" as const, message: "y" },
    ];
    sortProblems(inProcess);
    expect(inProcess.map((x) => x.file)).toEqual(["B.yaml", "a.yaml"]);
  });
});
