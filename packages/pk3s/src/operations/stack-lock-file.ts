/**
 * `pk3s lock [FILE] [--update [NAME]] [--frozen]`: write `FILE.lock` (FILE
 * defaults to ./stack.yaml) with every package the stack installs,
 * dependencies included, pinned by version and digest.
 *
 * - No lock yet: resolve from the catalogs and write it.
 * - A lock that matches the stack: left as it is ("up to date").
 * - A stale lock (the stack changed): resolve again keeping every pin that
 *   still fits, and write it.
 * - `--update`: resolve every add-on again (newest versions the stack
 *   accepts); `--update NAME`: only NAME (its dependencies follow where they
 *   must), every other pin kept.
 * - `--frozen`: write nothing; exit 4 when the lock is missing or stale (CI).
 *
 * A catalog entry without a digest (`--allow-unverified`) is downloaded and
 * pinned at the digest of the bytes seen.
 */
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { openStack, stackFileFor } from "../stack/opened-stack.js";
import { fetchStackPackages, resolveStackPackages, type StackPackage } from "../stack/stack-packages.js";
import type { FetchFlags } from "./fetch-entry.js";
import { withSession } from "./session.js";
import { type LockUse, settleLock } from "./stack-prepare.js";

export interface LockInput extends FetchFlags {
  file?: string | undefined;
  /** true: every add-on; a name: that one. */
  update?: true | string | undefined;
  frozen?: boolean | undefined;
}

export interface LockResult {
  ok: true;
  stack: string;
  file: string;
  /** up to date: nothing written; checked: --frozen and it matches. */
  state: "up to date" | "checked" | "written" | "updated";
  digest: string | undefined;
  changes: string[];
  packages: { name: string; version: string; catalog: string; digest: string }[];
}

export async function lockStack(input: LockInput): Promise<LockResult> {
  const given = input.file ?? "stack.yaml";
  const file = await stackFileFor(given);
  if (file === undefined) {
    throw new UsageError(`pk3s lock takes a stack file; "${given}" is not one`, {
      hint: "a lock sits beside its stack file: pk3s lock ./stack.yaml",
    });
  }
  if (typeof input.update === "string") assertValidName("package", input.update, "--update");
  if (input.frozen === true && input.update !== undefined)
    throw new UsageError("--frozen checks the lock; it cannot be combined with --update");
  return withSession({ offline: input.offline }, async (session) => {
    const stack = await openStack(file, session, input);
    const update = input.update === undefined ? undefined : input.update === true ? (true as const) : [input.update];
    if (typeof input.update === "string") {
      const known = new Set(stack.manifest.spec.addons.map((a) => a.name));
      if (!known.has(input.update)) {
        const { readLock, lockFileFor } = await import("../stack/stack-lock.js");
        const locked = (await readLock(lockFileFor(stack.file as string)))?.lock.packages.map((p) => p.name) ?? [];
        if (!locked.includes(input.update)) {
          throw new UsageError(`--update ${input.update}: not an add-on of stack ${stack.manifest.metadata.name}`, {
            hint: `its add-ons: ${[...new Set([...known, ...locked])].sort().join(", ")}`,
          });
        }
      }
    }
    const resolved = await resolveStackPackages(session, stack, { ...input, frozen: input.frozen, update });
    const packages = resolved.packages.map((p) => ({
      name: p.entry.name,
      version: p.entry.version,
      catalog: p.entry.catalog,
      digest: p.entry.digest ?? "",
    }));
    const base = { ok: true as const, stack: stack.label, file: resolved.lock.file as string };
    if (resolved.lock.status === "used") {
      return {
        ...base,
        state: input.frozen === true ? "checked" : "up to date",
        digest: resolved.lock.current?.digest,
        changes: [],
        packages,
      };
    }
    // Digests the catalogs do not give come from the bytes (TOFU), and the key that signed a signed catalog's package
    // from its verified signature (over the bytes); the others need no download.
    const needed: StackPackage[] = [];
    for (const p of resolved.packages) {
      if (p.entry.digest === undefined || p.entry.digest === "" || (await session.trustFor(p.entry)) !== undefined) needed.push(p);
    }
    await fetchStackPackages(session, needed, input);
    const use: LockUse = await settleLock(stack, resolved, true, true);
    const state =
      use.state === "written"
        ? "written"
        : use.changes.length === 0 && resolved.lock.current?.digest === use.digest
          ? "up to date"
          : "updated";
    return {
      ...base,
      state,
      digest: use.digest,
      changes: use.changes,
      packages: resolved.packages.map((p) => ({
        name: p.entry.name,
        version: p.entry.version,
        catalog: p.entry.catalog,
        digest: p.entry.digest ?? "",
      })),
    };
  });
}

export function renderLock(r: LockResult): string {
  const head: Record<LockResult["state"], string> = {
    "up to date": `${r.file} is up to date`,
    checked: `${r.file} matches ${r.stack}`,
    written: `wrote ${r.file}`,
    updated: `updated ${r.file}`,
  };
  const lines = [head[r.state] + (r.digest === undefined ? "" : ` (${r.digest})`)];
  if (r.state === "written") for (const p of r.packages) lines.push(`  ${p.name}@${p.version} [${p.catalog}] ${p.digest}`);
  else for (const c of r.changes) lines.push(`  ${c}`);
  return lines.map(terminalLine).join("\n");
}
