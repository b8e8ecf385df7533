/**
 * `pk3s stack show NAME|FILE`: what a stack declares (add-ons, versions,
 * values files, namespaces, resolution mode, runtime compatibility) and, for
 * a stack file, its lock: present and matching, stale (and why), or absent.
 * Nothing is resolved; `--set` lines show their keys only.
 */
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { displayUrl } from "../fetch/fetcher.js";
import { openStack } from "../stack/opened-stack.js";
import { lockFileFor, lockProblems, readLock } from "../stack/stack-lock.js";
import type { FetchFlags } from "./fetch-entry.js";
import { withSession } from "./session.js";

export interface StackDetails {
  name: string;
  version: string;
  category: string | null;
  description: string | null;
  source: string;
  catalog: { name: string; url: string; digest: string } | null;
  resolution: string;
  compatibility: { distros: string[] | null; kubernetesMinVersion: string | null; coreMinVersion: string | null };
  addons: { name: string; version: string | null; source: string | null; values: string[]; set: string[]; namespace: string | null }[];
  lock: {
    file: string;
    state: "matches" | "stale" | "absent";
    problems: string[];
    packages: { name: string; version: string; catalog: string | null; digest: string }[];
  } | null;
}

export async function showStack(ref: string, flags: FetchFlags): Promise<StackDetails> {
  return withSession({ offline: flags.offline }, async (session) => {
    const stack = await openStack(ref, session, flags);
    try {
      const m = stack.manifest;
      const c = m.spec.runtime?.compatibility;
      let lock: StackDetails["lock"] = null;
      if (stack.file !== undefined) {
        const file = lockFileFor(stack.file);
        const read = await readLock(file);
        const problems = read === undefined ? [] : lockProblems(read.lock, m);
        lock = {
          file,
          state: read === undefined ? "absent" : problems.length === 0 ? "matches" : "stale",
          problems,
          packages: (read?.lock.packages ?? []).map((p) => ({
            name: p.name,
            version: p.version,
            catalog: p.catalog ?? null,
            digest: p.digest,
          })),
        };
      }
      return {
        name: m.metadata.name,
        version: m.metadata.version,
        category: m.metadata.category ?? null,
        description: m.metadata.description ?? null,
        source: stack.label,
        catalog:
          stack.entry === undefined
            ? null
            : { name: stack.entry.catalog, url: displayUrl(stack.entry.resolvedUrl), digest: stack.digest ?? "" },
        resolution: m.spec.resolution?.mode ?? "catalog",
        compatibility: {
          distros: c?.kubernetes?.distros ?? null,
          kubernetesMinVersion: c?.kubernetes?.minVersion ?? null,
          coreMinVersion: c?.core?.minVersion ?? null,
        },
        addons: m.spec.addons.map((a) => ({
          name: a.name,
          version: a.version ?? null,
          source: a.source ?? null,
          values: a.values,
          // Keys only: a --set value may be a secret.
          set: a.set.map((line) => `${line.slice(0, line.indexOf("="))}=…`),
          namespace: a.namespace ?? null,
        })),
        lock,
      };
    } finally {
      await stack.cleanup();
    }
  });
}

export function renderStackShow(d: StackDetails): string {
  const lines = [
    `${d.name}@${d.version} (stack, ${d.catalog === null ? d.source : `catalog ${d.catalog.name}`})`,
    `description: ${d.description ?? "-"}`,
    `category:    ${d.category ?? "-"}`,
  ];
  if (d.catalog !== null) lines.push(`url:         ${d.catalog.url}`, `digest:      ${d.catalog.digest}`);
  lines.push(`resolution:  ${d.resolution}`);
  const compat = [
    d.compatibility.distros === null ? undefined : `distros ${d.compatibility.distros.join(", ")}`,
    d.compatibility.kubernetesMinVersion === null ? undefined : `Kubernetes >= ${d.compatibility.kubernetesMinVersion}`,
    d.compatibility.coreMinVersion === null ? undefined : `productive-k3s-core >= ${d.compatibility.coreMinVersion}`,
  ].filter((x) => x !== undefined);
  lines.push(`runtime:     ${compat.length === 0 ? "not declared" : compat.join("; ")}`);
  lines.push("add-ons:");
  for (const a of d.addons) {
    const extra = [
      a.source === null ? undefined : `bundled ${a.source}`,
      a.namespace === null ? undefined : `namespace ${a.namespace}`,
      a.values.length === 0 ? undefined : `values ${a.values.join(", ")}`,
      a.set.length === 0 ? undefined : `set ${a.set.join(", ")}`,
    ].filter((x) => x !== undefined);
    lines.push(`  ${a.name}${a.version === null ? "" : `@${a.version}`}${extra.length === 0 ? "" : ` (${extra.join("; ")})`}`);
  }
  if (d.lock !== null) {
    if (d.lock.state === "absent") lines.push(`lock: none (pk3s lock ${d.source} writes ${d.lock.file})`);
    else {
      lines.push(`lock: ${d.lock.file}${d.lock.state === "stale" ? " (STALE: pk3s lock refreshes it)" : ""}`);
      for (const p of d.lock.problems) lines.push(`  ! ${p}`);
      for (const p of d.lock.packages) lines.push(`  ${p.name}@${p.version} [${p.catalog ?? "bundled"}] ${p.digest}`);
    }
  }
  return lines.map(terminalLine).join("\n");
}
