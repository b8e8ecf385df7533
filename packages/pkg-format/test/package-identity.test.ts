import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { packPackage } from "../src/archive/pack.js";
import { readPackageIdentity } from "../src/archive/package-identity.js";
import { IntegrityError, ValidationError } from "../src/errors.js";
import { dir as dirEntry, file, tgz } from "./helpers/tar-builder.js";

const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "pkgf-identity-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const addonYaml = (name: string, version: string): string =>
  `apiVersion: addons.productive-k3s.io/v1\nkind: Addon\nmetadata:\n  name: ${name}\n  version: ${version}\n  category: test\nspec:\n  type: shell\n  install:\n    script: scripts/install.sh\n`;

function write(name: string, bytes: Buffer): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

describe("readPackageIdentity", () => {
  it("reads kind, name and version of packed add-ons and profiles", async () => {
    const addon = await packPackage(join(FIXTURES, "addons", "longhorn"), join(work, "out"));
    expect(await readPackageIdentity(addon.file)).toEqual({ kind: "addon", name: "longhorn", version: "1.0.0" });
    const profile = await packPackage(join(FIXTURES, "profiles", "local-lab"), join(work, "out"));
    expect(await readPackageIdentity(profile.file)).toEqual({ kind: "profile", name: profile.name, version: profile.version });
  });

  it("reads a package wrapped in one top directory (the full inspection)", async () => {
    const path = write(
      "wrapped.tgz",
      tgz(dirEntry("pkg"), file("pkg/addon.yaml", addonYaml("wrapped", "2.0.0")), file("pkg/scripts/install.sh", "echo hi\n", 0o755)),
    );
    expect(await readPackageIdentity(path)).toEqual({ kind: "addon", name: "wrapped", version: "2.0.0" });
  });

  it("takes the root manifest over a wrapped one (a root file rules out the wrapped layout)", async () => {
    const path = write(
      "root-first.tgz",
      tgz(file("addon.yaml", addonYaml("rooted", "1.0.0")), file("x/addon.yaml", addonYaml("other", "9.9.9"))),
    );
    expect((await readPackageIdentity(path)).name).toBe("rooted");
  });

  it("refuses what is not a package, and a hostile entry name, as extraction would", async () => {
    await expect(readPackageIdentity(write("random.tgz", Buffer.from("not gzip at all")))).rejects.toThrow(IntegrityError);
    await expect(readPackageIdentity(write("none.tgz", tgz(file("README.md", "hi"))))).rejects.toThrow(
      /no addon.yaml, profile.yaml or stack.yaml/,
    );
    await expect(readPackageIdentity(write("escape.tgz", tgz(file("../addon.yaml", addonYaml("x", "1.0.0")))))).rejects.toThrow(
      /contains '\.\.'/,
    );
    await expect(readPackageIdentity(write("bad.tgz", tgz(file("addon.yaml", "kind: Addon\n"))))).rejects.toThrow(ValidationError);
  });

  it("reads the identity without the full parse, and hands anything it cannot vouch for to the full parse", async () => {
    // In the line reader's subset: a profile's opaque revision, a quoted version.
    const profile = `apiVersion: infra.productive-k3s.io/v1\nkind: Profile\nmetadata:\n  name: lab\n  version: "594a7c9"\n  category: t\nspec:\n  scenario:\n    type: t\n  engine:\n    type: opentofu\n`;
    expect(await readPackageIdentity(write("rev.tgz", tgz(file("profile.yaml", profile))))).toEqual({
      kind: "profile",
      name: "lab",
      version: "594a7c9",
    });
    // Outside the subset (a flow mapping): the full parse reads it.
    const flow = addonYaml("flow", "1.2.3").replace(
      "metadata:\n  name: flow\n  version: 1.2.3\n  category: test\n",
      "metadata: {name: flow, version: 1.2.3, category: test}\n",
    );
    expect(
      await readPackageIdentity(write("flow.tgz", tgz(file("addon.yaml", flow), file("scripts/install.sh", "echo\n", 0o755)))),
    ).toEqual({
      kind: "addon",
      name: "flow",
      version: "1.2.3",
    });
    // A field the schema refuses: the full parse words it, naming the file and the field, as before.
    const bad = write("badversion.tgz", tgz(file("addon.yaml", addonYaml("x", "1.0"))));
    await expect(readPackageIdentity(bad, "x-1.0.tgz")).rejects.toThrow(ValidationError);
    await expect(readPackageIdentity(bad, "x-1.0.tgz")).rejects.toThrow(/x-1\.0\.tgz\/addon\.yaml/);
    const wrongKind = write("wrongkind.tgz", tgz(file("addon.yaml", addonYaml("x", "1.0.0").replace("kind: Addon", "kind: Profile"))));
    await expect(readPackageIdentity(wrongKind)).rejects.toThrow(ValidationError);
    const badName = write("badname.tgz", tgz(file("addon.yaml", addonYaml("Not_A_Name", "1.0.0"))));
    await expect(readPackageIdentity(badName)).rejects.toThrow(ValidationError);
  });
});
