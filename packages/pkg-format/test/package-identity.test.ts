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
});
