import { describe, expect, it } from "vitest";
import { versionSatisfies } from "../src/format/version-range.js";

describe("versionSatisfies (the one 'version satisfies range' of the three CLIs)", () => {
  it.each([
    ["1.2.3", "^1.2", true],
    ["2.0.0", "^1.2", false],
    ["1.2.3", "", true],
    ["1.2.3", "*", true],
    ["1.2.3", "1.2.3", true],
    ["1.2.3", ">=1.0 <2", true],
    ["1.2.3", "not a range", false],
    ["latest", "latest", true],
    ["latest", "*", true],
    ["latest", "", true],
    ["latest", "^1", false],
  ])("%s satisfies %j: %s", (version, range, want) => {
    expect(versionSatisfies(version, range)).toBe(want);
  });

  it("prereleases count by default (an installed 1.3.0-rc.1 meets ^1.2) and not when told", () => {
    expect(versionSatisfies("1.3.0-rc.1", "^1.2")).toBe(true);
    expect(versionSatisfies("1.3.0-rc.1", "*")).toBe(true);
    expect(versionSatisfies("1.3.0-rc.1", "^1.2", { includePrerelease: false })).toBe(false);
    expect(versionSatisfies("1.3.0-rc.1", "*", { includePrerelease: false })).toBe(false);
    expect(versionSatisfies("1.3.0-rc.1", "1.3.0-rc.1", { includePrerelease: false })).toBe(true);
  });
});
