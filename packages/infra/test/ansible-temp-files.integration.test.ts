/**
 * The Ansible extra-vars file holds every input, sensitive ones included: it
 * must not outlive the run on any exit path (red-team finding 5: a second
 * Ctrl-C left it behind). Each run gets its own TMPDIR; afterwards nothing
 * is left in it — no extra-vars file, no extraction, no byte of the secret.
 */
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DUPLICATE_SIGNAL_WINDOW_MS } from "@productive-k3s/pkg-format/process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allFiles, buildFixture, exists, filesContaining, runInfra, type Sandbox, sandbox, startInfra, waitFor } from "./helpers.js";

const SECRET = "extra-vars-secret-7f3a9c";

let sb: Sandbox;
let tgz: string;
let stub: string;

beforeAll(async () => {
  sb = await sandbox();
  tgz = await buildFixture(sb, "local-lab");
  // A slow ansible-playbook that logs its argv and each signal it gets, and keeps running through SIGINT and
  // SIGTERM (its `sleep`s die with the group; the loop goes on), so that only a second interrupt ends the run.
  stub = join(sb.dir, "slow-ansible-playbook");
  await writeFile(
    stub,
    [
      "#!/usr/bin/env bash",
      `trap 'echo TERM >> "$STUB_ANSIBLE_LOG"' TERM`,
      `trap 'echo INT >> "$STUB_ANSIBLE_LOG"' INT`,
      'echo "ARGS $*" >> "$STUB_ANSIBLE_LOG"',
      "for i in $(seq 1 300); do sleep 0.1; done",
      "",
    ].join("\n"),
  );
  await chmod(stub, 0o755);
});
afterAll(async () => sb.cleanup());

async function freshTmp(name: string): Promise<string> {
  const dir = join(sb.dir, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

async function stubLog(file: string): Promise<string[]> {
  return (await readFile(file, "utf8").catch(() => "")).split("\n").filter((l) => l !== "");
}

function installArgs(instance: string): string[] {
  return [
    "profile",
    "install",
    "--tgz",
    tgz,
    "--set",
    `LAB_DIR=${join(sb.dir, instance)}`,
    "--set",
    `LAB_JOIN_TOKEN=${SECRET}`,
    "--instance",
    instance,
    "--yes",
  ];
}

async function expectNothingLeft(tmp: string): Promise<void> {
  expect((await allFiles(tmp)).filter((f) => f.includes("extra-vars"))).toEqual([]);
  expect(await filesContaining(tmp, SECRET)).toEqual([]);
  expect(await readdir(tmp)).toEqual([]);
}

describe("ansible extra-vars file", () => {
  it("is removed when a second SIGINT ends the run at once", async () => {
    const tmp = await freshTmp("tmp-sigint-twice");
    const log = join(sb.dir, "sigint-twice.log");
    const run = startInfra(sb, installArgs("twice"), {
      env: { TMPDIR: tmp, PK3S_ANSIBLE_PLAYBOOK_BIN: stub, STUB_ANSIBLE_LOG: log },
    });
    await waitFor(async () => (await stubLog(log)).some((l) => l.startsWith("ARGS ")), "ansible-playbook to start");
    const args = (await stubLog(log)).find((l) => l.startsWith("ARGS "))?.split(" ") ?? [];
    const varsFile = args[args.indexOf("--extra-vars") + 1]?.replace(/^@/, "") ?? "";
    expect(varsFile.startsWith(tmp)).toBe(true);
    expect(await readFile(varsFile, "utf8")).toContain(SECRET);

    run.child.kill("SIGINT");
    const first = Date.now();
    // The runner forwards the interrupt as it came (SIGINT) and gives the tool its grace period.
    await waitFor(async () => (await stubLog(log)).includes("INT"), "the tool to get its SIGINT");
    // A repeat inside the duplicate window is the terminal's copy of the same Ctrl-C; a later one forces.
    await new Promise((r) => setTimeout(r, Math.max(0, DUPLICATE_SIGNAL_WINDOW_MS + 200 - (Date.now() - first))));
    run.child.kill("SIGINT");
    const done = await run.done;
    expect(done.code).toBe(130);
    expect(await exists(varsFile)).toBe(false);
    await expectNothingLeft(tmp);
  });

  it("is removed after one SIGINT, a SIGTERM, and when the tool cannot be started", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const tmp = await freshTmp(`tmp-${signal}`);
      const log = join(sb.dir, `${signal}.log`);
      const fast = join(sb.dir, "fast-ansible-playbook");
      // This one ends on SIGTERM, so the run unwinds normally.
      await writeFile(fast, `#!/usr/bin/env bash\necho "ARGS $*" >> "$STUB_ANSIBLE_LOG"\nsleep 30\n`);
      await chmod(fast, 0o755);
      const run = startInfra(sb, installArgs(signal.toLowerCase()), {
        env: { TMPDIR: tmp, PK3S_ANSIBLE_PLAYBOOK_BIN: fast, STUB_ANSIBLE_LOG: log },
      });
      await waitFor(async () => (await stubLog(log)).length > 0, "ansible-playbook to start");
      run.child.kill(signal);
      expect((await run.done).code).toBe(130);
      await expectNothingLeft(tmp);
    }

    const tmp = await freshTmp("tmp-spawn-failure");
    const broken = join(sb.dir, "broken-ansible-playbook");
    await writeFile(broken, "#!/nonexistent/interpreter\n");
    await chmod(broken, 0o755);
    const r = await runInfra(sb, installArgs("spawn-failure"), { env: { TMPDIR: tmp, PK3S_ANSIBLE_PLAYBOOK_BIN: broken } });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("could not be started");
    await expectNothingLeft(tmp);
  });
});
