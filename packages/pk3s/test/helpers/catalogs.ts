/** Catalog documents and fake package bytes for the tests. */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { file, tgz } from "../../../pkg-format/test/helpers/tar-builder.js";

export interface FakePackage {
  name: string;
  version: string;
  type?: "addon" | "profile";
  bytes: Buffer;
  url?: string;
  digest?: string | null;
  size?: number | null;
  dependencies?: { name: string; version: string }[];
  deprecated?: boolean;
  inputs?: unknown[];
}

export function fakeBytes(label: string, size = 4096): Buffer {
  return Buffer.concat([Buffer.from(`${label}\n`), randomBytes(size)]);
}

export function digestOf(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * A real (tiny) package: its manifest says `name`, `version` and `type` (pk3s binds downloaded bytes to their
 * catalog entry), plus `paddingBytes` of random data so every package differs and sizes can be chosen.
 */
export function packageBytes(name: string, version: string, type: "addon" | "profile" = "addon", paddingBytes = 4096): Buffer {
  const manifest =
    type === "addon"
      ? `apiVersion: addons.productive-k3s.io/v1\nkind: Addon\nmetadata:\n  name: ${name}\n  version: ${JSON.stringify(version)}\n  category: test\nspec:\n  type: shell\n  install:\n    script: scripts/install.sh\n`
      : `apiVersion: infra.productive-k3s.io/v1\nkind: Profile\nmetadata:\n  name: ${name}\n  version: ${JSON.stringify(version)}\n  category: test\nspec:\n  scenario:\n    type: test\n  engine:\n    type: opentofu\n`;
  return tgz(
    file(type === "addon" ? "addon.yaml" : "profile.yaml", manifest),
    file("padding.bin", randomBytes(paddingBytes)),
    ...(type === "addon" ? [file("scripts/install.sh", "#!/bin/sh\necho install\n", 0o755)] : []),
  );
}

export function pkg(name: string, version: string, extra: Partial<FakePackage> = {}): FakePackage {
  return { name, version, bytes: packageBytes(name, version, extra.type ?? "addon"), ...extra };
}

export function packagePath(p: FakePackage): string {
  return `/packages/${p.name}-${p.version}.tgz`;
}

export function catalogYaml(packages: FakePackage[]): string {
  return stringify({
    apiVersion: "catalog.productive-k3s.io/v1",
    kind: "Catalog",
    generated: "2026-11-21T00:00:00Z",
    entries: packages.map((p) => ({
      name: p.name,
      version: p.version,
      type: p.type ?? "addon",
      url: p.url ?? packagePath(p).slice(1),
      ...(p.digest === null ? {} : { digest: p.digest ?? digestOf(p.bytes) }),
      ...(p.size === null ? {} : { size: p.size ?? p.bytes.length }),
      description: `${p.name} test package`,
      category: "test",
      ...(p.deprecated ? { deprecated: true } : {}),
      ...(p.dependencies ? { dependencies: p.dependencies } : {}),
      ...(p.inputs ? { inputs: p.inputs } : {}),
    })),
  });
}

/** A file catalog: `<dir>/index.yaml` + `<dir>/packages/*.tgz`. Returns the index path. */
export function writeLocalCatalog(dir: string, packages: FakePackage[]): string {
  mkdirSync(`${dir}/packages`, { recursive: true });
  for (const p of packages) writeFileSync(`${dir}${packagePath(p)}`, p.bytes);
  writeFileSync(`${dir}/index.yaml`, catalogYaml(packages));
  return `${dir}/index.yaml`;
}
