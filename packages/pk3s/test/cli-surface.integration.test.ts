/** Every command documents itself with an example; usage errors are exit 2. */
import { afterAll, describe, expect, it } from "vitest";
import { sandbox } from "./helpers/cli.js";

const sb = sandbox();
afterAll(() => sb.cleanup());

const COMMANDS = [
  [],
  ["catalog"],
  ["catalog", "add"],
  ["catalog", "list"],
  ["catalog", "remove"],
  ["catalog", "update"],
  ["catalog", "index"],
  ["catalog", "prune"],
  ["search"],
  ["addon"],
  ["addon", "show"],
  ["addon", "pull"],
  ["addon", "install"],
  ["addon", "validate"],
  ["profile"],
  ...["show", "pull", "validate", "plan", "install", "status", "destroy"].map((v) => ["profile", v]),
];

describe("--help", () => {
  it.each(COMMANDS.map((c) => [c.join(" ") || "pk3s", c]))("%s has an Example", async (_label, cmd) => {
    const r = await sb.run([...(cmd as string[]), "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Example:");
  });
});

describe("usage errors", () => {
  it.each([
    [["addon", "install"]],
    [["search", "--type", "stack"]],
    [["addon", "install", "x", "--instance", "a", "--kubeconfig", "k"]],
    [["catalog", "prune", "dir"]],
  ])("%j exits 2", async (args) => {
    const r = await sb.run(args);
    expect(r.code).toBe(2);
  });
});
