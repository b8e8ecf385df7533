/**
 * A stack's lock file, `<stack file>.lock`: reading it, telling whether it
 * still matches its stack, and writing it.
 *
 * A lock matches its stack when every add-on the stack lists is locked at a
 * version the stack accepts (and, for a bundled add-on, from the same source
 * with the same bytes), every locked package's dependencies are locked at
 * versions they accept, and nothing else is locked. The check reads no
 * catalog: the lock repeats each package's dependencies.
 *
 * The file is YAML, sorted by package name, without timestamps: the same
 * resolution writes the same bytes, so a lock in git changes only when a pin
 * does. `signingKeyId` is written when the package's catalog is signed.
 */
import { createHash } from "node:crypto";
import { readTextIfExists } from "@productive-k3s/pkg-format/atomic";
import { formatProblem, type Problem, ValidationError } from "@productive-k3s/pkg-format/errors";
import type { StackManifest } from "@productive-k3s/pkg-format/schema-stack";
import type { StackLock, StackLockPackage } from "@productive-k3s/pkg-format/schema-stack-lock";
import { compareText } from "@productive-k3s/pkg-format/text-order";
import { versionSatisfies } from "@productive-k3s/pkg-format/version-range";
import { stringify } from "yaml";

export const LOCK_HEADER =
  "# Written by `pk3s lock`: the exact packages `pk3s stack install` installs for this stack.\n" +
  "# Commit it beside the stack; refresh it with `pk3s lock --update [NAME]`, never by hand.\n";

export function lockFileFor(stackFile: string): string {
  return `${stackFile}.lock`;
}

export interface ReadLock {
  file: string;
  lock: StackLock;
  /** sha256 of the file's bytes: what install records keep (`--stack-lock-digest`). */
  digest: string;
}

export function lockDigest(text: string): string {
  return `sha256:${createHash("sha256").update(text, "utf8").digest("hex")}`;
}

/** The lock beside a stack file, or undefined when there is none. A damaged lock is exit 4 naming its fields. */
export async function readLock(file: string): Promise<ReadLock | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const { parseStackLock } = await import("@productive-k3s/pkg-format/manifest-parse");
  try {
    return { file, lock: parseStackLock(text, file).manifest, digest: lockDigest(text) };
  } catch (err) {
    if (err instanceof ValidationError) {
      throw new ValidationError(err.message, err.problems, {
        where: file,
        hint: "the lock is written by pk3s: recreate it with `pk3s lock --update <stack file>`",
      });
    }
    throw err;
  }
}

/**
 * Why `lock` no longer matches `stack`; empty when it does. `bundled`: source path → digest of the stack's file now
 * (undefined: the bundled packages' bytes are not compared).
 */
export function lockProblems(lock: StackLock, stack: StackManifest, bundled?: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  if (lock.stack.name !== stack.metadata.name) {
    problems.push(`the lock is for stack ${lock.stack.name}, not ${stack.metadata.name}`);
  }
  const byName = new Map(lock.packages.map((p) => [p.name, p]));
  for (const a of stack.spec.addons) {
    const p = byName.get(a.name);
    if (p === undefined) problems.push(`${a.name} is in the stack but not in the lock`);
    else if (a.version !== undefined && !versionSatisfies(p.version, a.version)) {
      problems.push(`${a.name}: the stack asks for ${a.version}, the lock has ${p.version}`);
    } else if (a.source !== p.source) {
      problems.push(`${a.name}: the stack takes it from ${a.source ?? "the catalogs"}, the lock from ${p.source ?? "the catalogs"}`);
    } else if (a.source !== undefined && bundled !== undefined && bundled.get(a.source) !== p.digest) {
      problems.push(`${a.name}: ${a.source} is not the package the lock pinned (${p.digest})`);
    }
  }
  for (const p of lock.packages) {
    for (const d of p.dependencies ?? []) {
      const dep = byName.get(d.name);
      if (dep === undefined) problems.push(`${p.name}@${p.version} needs ${d.name}, which is not in the lock`);
      else if (!versionSatisfies(dep.version, d.version)) {
        problems.push(`${p.name}@${p.version} needs ${d.name} ${d.version}, the lock has ${dep.version}`);
      }
    }
  }
  const reached = new Set<string>();
  const walk = (name: string): void => {
    if (reached.has(name)) return;
    reached.add(name);
    for (const d of byName.get(name)?.dependencies ?? []) walk(d.name);
  };
  for (const a of stack.spec.addons) walk(a.name);
  for (const p of lock.packages) if (!reached.has(p.name)) problems.push(`${p.name} is in the lock but no longer needed by the stack`);
  return problems;
}

/** The exit-4 error for a lock that cannot be used as it is (`--frozen`). */
export function staleLockError(file: string, problems: readonly string[], stackLabel: string): ValidationError {
  const list: Problem[] = problems.map((message) => ({ file, message, severity: "error" }));
  return new ValidationError(`${file} no longer matches ${stackLabel}`, list, {
    where: file,
    hint: `refresh it with: pk3s lock ${stackLabel} (then commit it)`,
  });
}

/** The lock's text: packages sorted by name, fields in a fixed order, no timestamps. */
export function renderLock(stack: StackManifest, packages: readonly StackLockPackage[]): string {
  const sorted = [...packages].sort((a, b) => compareText(a.name, b.name));
  const doc = {
    apiVersion: "addons.productive-k3s.io/v1",
    kind: "StackLock",
    stack: { name: stack.metadata.name, version: stack.metadata.version },
    packages: sorted.map((p) => ({
      name: p.name,
      type: p.type,
      version: p.version,
      ...(p.catalog === undefined ? {} : { catalog: p.catalog }),
      ...(p.url === undefined ? {} : { url: p.url }),
      ...(p.source === undefined ? {} : { source: p.source }),
      digest: p.digest,
      ...(p.size === undefined ? {} : { size: p.size }),
      ...(p.signingKeyId === undefined ? {} : { signingKeyId: p.signingKeyId }),
      ...(p.dependencies === undefined || p.dependencies.length === 0
        ? {}
        : { dependencies: p.dependencies.map((d) => ({ name: d.name, version: d.version })) }),
    })),
  };
  return LOCK_HEADER + stringify(doc, { lineWidth: 0 });
}

/** Lines saying what changed between two locks ("longhorn 1.0.0 -> 1.1.0", "+ cert-manager 1.2.0", "- registry 0.1.0"). */
export function lockChanges(before: readonly StackLockPackage[], after: readonly StackLockPackage[]): string[] {
  const old = new Map(before.map((p) => [p.name, p]));
  const now = new Map(after.map((p) => [p.name, p]));
  const lines: string[] = [];
  for (const p of after) {
    const o = old.get(p.name);
    if (o === undefined) lines.push(`+ ${p.name} ${p.version}`);
    else if (o.version !== p.version) lines.push(`~ ${p.name} ${o.version} -> ${p.version}`);
    else if (o.digest !== p.digest) lines.push(`~ ${p.name} ${p.version} (new digest ${p.digest})`);
  }
  for (const p of before) if (!now.has(p.name)) lines.push(`- ${p.name} ${p.version}`);
  return lines.sort((a, b) => compareText(a.slice(2), b.slice(2)));
}

/** Problems of a lock, one line each, for warnings. */
export function describeProblems(problems: readonly string[], file: string): string {
  return problems.map((m) => formatProblem({ file, message: m, severity: "warning" })).join("\n");
}
