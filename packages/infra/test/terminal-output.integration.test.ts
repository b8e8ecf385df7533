/**
 * Human output of package and tool data is terminal-safe (red-team finding
 * 7): a profile whose description, input description, scenario type and
 * outputs hold escape sequences (clear screen, window title, OSC 52
 * clipboard) never gets a raw ESC/BEL onto the terminal; the sequences show
 * as visible `\u{1b}` escapes. `--json` keeps the data as it is.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, packTestProfile, runInfra, type Sandbox, sandbox } from "./helpers.js";

const CLEAR = "\u001b[2J";
const TITLE = "\u001b]0;owned\u0007";
const CLIPBOARD = "\u001b]52;c;cm0gLXJmIH4=\u0007";

let sb: Sandbox;
let tgz: string;

beforeAll(async () => {
  sb = await sandbox();
  // YAML double-quoted strings carry the control characters as \e and \a escapes.
  tgz = await packTestProfile(
    sb,
    `apiVersion: infra.productive-k3s.io/v1
kind: Profile
metadata:
  name: escape-lab
  version: 0.1.0
  category: local
  description: "A lab\\e[2J that clears the screen\\e]0;owned\\a"
spec:
  scenario:
    type: "lab\\e]52;c;cm0gLXJmIH4=\\a"
  engine:
    type: script
  inputs:
    - name: NEEDED
      required: true
      description: "needed\\e[2J value"
  execution:
    installScript: scenario/install.sh
`,
    { "scenario/install.sh": `#!/usr/bin/env bash\nprintf '{"banner": "%s"}' '\\u001b]0;owned\\u0007hello' > "$PK3S_OUTPUTS_FILE"\n` },
  );
});
afterAll(async () => sb.cleanup());

function expectNoControls(r: CliResult): void {
  for (const text of [r.stdout, r.stderr]) {
    expect(text).not.toContain("\u001b");
    expect(text).not.toContain("\u0007");
  }
}

describe("human output of package data", () => {
  it("validate, a missing-input error, install, status and list print escapes, never control characters", async () => {
    const missing = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--require-inputs"]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("required input NEEDED (needed\\u{1b}[2J value) is missing");
    expectNoControls(missing);

    const validate = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--set", "NEEDED=1"]);
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toContain("A lab\\u{1b}[2J that clears the screen\\u{1b}]0;owned\\u{7}");
    expect(validate.stdout).toContain("scenario lab\\u{1b}]52;c;cm0gLXJmIH4=\\u{7}");
    expect(validate.stdout).toContain("NEEDED (required) [either]: from --set — needed\\u{1b}[2J value");
    expectNoControls(validate);
    // JSON is data: the description as the package has it.
    const json = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--set", "NEEDED=1", "--json"]);
    expect(JSON.parse(json.stdout).description).toBe(`A lab${CLEAR} that clears the screen${TITLE}`);

    const install = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--set", "NEEDED=1", "--yes"]);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain("banner = \\u{1b}]0;owned\\u{7}hello");
    expectNoControls(install);

    for (const args of [
      ["profile", "status", "--instance", "escape-lab"],
      ["profile", "outputs", "--instance", "escape-lab"],
      ["profile", "list"],
    ]) {
      const r = await runInfra(sb, args);
      expect(r.code, r.stderr).toBe(0);
      expectNoControls(r);
    }
    const status = await runInfra(sb, ["profile", "status", "--instance", "escape-lab"]);
    expect(status.stdout).toContain(`scenario lab\\u{1b}]52;c;cm0gLXJmIH4=\\u{7}`);
    const statusJson = await runInfra(sb, ["profile", "status", "--instance", "escape-lab", "--json"]);
    expect(JSON.parse(statusJson.stdout).scenario).toBe(`lab${CLIPBOARD}`);
  });
});
