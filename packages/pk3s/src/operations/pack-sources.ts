/**
 * `pk3s pack SRC... --out DIR`: deterministic packages from many source
 * folders at once, each detected by its manifest (addon.yaml, profile.yaml,
 * stack.yaml: pkg-format's packer reads the kind). All or nothing: every package is packed into
 * a private folder beside DIR's files and moved into place only when all of
 * them packed, so a failure leaves DIR as it was.
 */
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { UsageError } from "@productive-k3s/pkg-format/errors";

export interface PackInput {
  sources: string[];
  out: string;
  /** Release builds: this version for every package (written into its packed manifest). */
  version?: string | undefined;
  strict?: boolean | undefined;
}

export interface PackedView {
  source: string;
  file: string;
  kind: string;
  name: string;
  version: string;
  digest: string;
  size: number;
}

export async function packSources(input: PackInput): Promise<{ packages: PackedView[] }> {
  if (input.sources.length === 0) throw new UsageError("pass at least one source folder");
  const out = resolve(input.out);
  await mkdir(out, { recursive: true });
  const staging = await mkdtemp(join(out, ".pk3s-pack-"));
  try {
    const { packPackage } = await import("@productive-k3s/pkg-format/pack");
    const packed: PackedView[] = [];
    const names = new Map<string, string>();
    for (const source of input.sources) {
      const r = await packPackage(source, staging, { version: input.version, strict: input.strict === true });
      const name = basename(r.file);
      const other = names.get(name);
      if (other !== undefined)
        throw new UsageError(`${source} and ${other} both pack to ${name}`, { hint: "pack each package version once" });
      names.set(name, source);
      packed.push({ source, file: join(out, name), kind: r.kind, name: r.name, version: r.version, digest: r.digest, size: r.size });
    }
    for (const p of packed) await rename(join(staging, basename(p.file)), p.file);
    return { packages: packed };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
