/**
 * instance.json is read and written through its zod schema
 * (src/state/instance-schema.ts): a damaged record is an error (exit 4)
 * naming the file and the field, on every command that reads it.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bashScript, instanceDir, packTestProfile, runInfra, type Sandbox, sandbox } from "./helpers.js";

let sb: Sandbox;
let tgz: string;

beforeAll(async () => {
  sb = await sandbox();
  tgz = await packTestProfile(
    sb,
    "apiVersion: infra.productive-k3s.io/v1\nkind: Profile\nmetadata:\n  name: record-lab\n  version: 0.1.0\n  category: local\nspec:\n  scenario:\n    type: record-lab\n  engine:\n    type: script\n  execution:\n    installScript: scenario/install.sh\n",
    { "scenario/install.sh": bashScript(`echo 'port=8080' > "$PK3S_OUTPUTS_FILE"`) },
  );
});
afterAll(async () => sb.cleanup());

describe("instance.json", () => {
  it("a record that does not match the schema exits 4 naming the file and field", async () => {
    const install = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--yes"]);
    expect(install.code, install.stderr).toBe(0);
    const file = join(instanceDir(sb, "record-lab"), "instance.json");
    const record = JSON.parse(await readFile(file, "utf8")) as { runs: { status: string }[]; digest: string };
    expect(record.runs[0]?.status).toBe("succeeded");

    const good = await readFile(file, "utf8");
    await writeFile(file, JSON.stringify({ ...record, runs: [{ ...record.runs[0], status: "bogus" }], digest: 42 }));
    for (const args of [
      ["profile", "status", "--instance", "record-lab", "--json"],
      ["profile", "outputs", "--instance", "record-lab", "--json"],
      ["profile", "install", "--tgz", tgz, "--yes", "--json"],
    ]) {
      const r = await runInfra(sb, args);
      expect(r.code, `${args.join(" ")}\n${r.stderr}`).toBe(4);
      const error = JSON.parse(r.stdout).error as { message: string; where: string; problems: { file: string; path: string }[] };
      expect(error.message).toBe(`instance record ${file} is damaged`);
      expect(error.where).toBe(file);
      expect(error.problems.map((p) => `${p.file}: ${p.path}`).sort()).toEqual([`${file}: digest`, `${file}: runs[0].status`]);
      expect(r.stderr).toContain(`${file}: runs[0].status: Invalid option`);
    }

    await writeFile(file, "{ not json");
    const broken = await runInfra(sb, ["profile", "status", "--instance", "record-lab"]);
    expect(broken.code).toBe(4);
    expect(broken.stderr).toContain(`instance record ${file} is not valid JSON`);
    expect(broken.stderr).not.toContain("internal error");

    // Restored, the instance works again: the damaged record was never overwritten.
    await writeFile(file, good);
    const status = await runInfra(sb, ["profile", "status", "--instance", "record-lab", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).outputs).toEqual({ port: "8080" });
  });
});
