/** The CLIs' one table layout: padded columns, two spaces apart, no trailing spaces (an empty last cell too). */
import { describe, expect, it } from "vitest";
import { formatColumns } from "../src/cli/text-table.js";

describe("formatColumns", () => {
  it("pads each column to its widest cell and trims the line end", () => {
    expect(
      formatColumns([
        ["NAME", "VERSION", "DESCRIPTION"],
        ["longhorn", "1.0.0", "Distributed block storage"],
        ["x", "10.20.30", ""],
      ]),
    ).toBe(["NAME      VERSION   DESCRIPTION", "longhorn  1.0.0     Distributed block storage", "x         10.20.30"].join("\n"));
  });
});
