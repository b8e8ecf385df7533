/**
 * An add-on source as it will be packed. Usually the source itself; when spec.chart names a remote chart
 * (`ref: oci://…` or `repo:` + `name`), a private copy of the source (what packing would include: ignore
 * rules applied) with the chart pulled, verified against spec.chart.digest and embedded at
 * `charts/<name>/`, and addon.yaml rewritten to point at it:
 *
 *   spec.chart: {path: charts/<name>, releaseName…, namespace…, values…,
 *                source: {ref | repo, name, version, digest}}     # provenance: where the bytes came from
 *
 * so the package is self-contained (an installed package never depends on a live chart source) and the
 * source keeps saying where the chart comes from. The source directory itself is never written to.
 */
import { rmSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { onInterrupt } from "@productive-k3s/pkg-format/interrupts";
import type { RemoteChart } from "@productive-k3s/pkg-format/schema-addon";
import { isMap, parseDocument } from "yaml";
import { embedRemoteChart, type PullOptions } from "../chart/remote-chart.js";
import type { AddonView } from "../manifest-view.js";

export interface StagedSource {
  /** The directory to check and pack. */
  dir: string;
  /** The manifest as packed (an embedded chart: `source` set, `remote` gone). */
  addon: AddonView;
  /** The remote chart that was embedded, if any. */
  embedded: RemoteChart | undefined;
  cleanup(): Promise<void>;
}

/** addon.yaml with spec.chart pointing at the embedded chart; every other line (comments included) kept. */
export function embeddedManifest(text: string, path: string, remote: RemoteChart): string {
  const doc = parseDocument(text);
  const chart = doc.getIn(["spec", "chart"], true);
  if (!isMap(chart)) throw new Error("embeddedManifest: spec.chart is not a mapping");
  for (const key of ["ref", "repo", "name", "version", "digest"]) chart.delete(key);
  chart.items.unshift(doc.createPair("path", path));
  const source = remote.ref !== undefined ? { ref: remote.ref } : { repo: remote.repo };
  chart.set("source", doc.createNode({ ...source, name: remote.name, version: remote.version, digest: remote.digest }));
  return doc.toString();
}

/** Copy what packing would take from the source (ignore rules applied); links and special files are refused as packing refuses them. */
async function copySource(source: string, dest: string, label: string): Promise<void> {
  const { listSourceEntries } = await import("@productive-k3s/pkg-format/pack");
  const { entries, problems } = await listSourceEntries(source);
  if (problems.length > 0) {
    throw new ValidationError(`${label} cannot be packed: ${problems.length} problem${problems.length === 1 ? "" : "s"}`, problems, {
      where: label,
    });
  }
  for (const e of entries) {
    const to = join(dest, e.path);
    if (e.type === "directory") await mkdir(to, { recursive: true });
    else {
      await copyFile(e.abs, to);
      await chmod(to, e.mode);
    }
  }
}

/**
 * The source to check and pack. Without `pull` (no helm) a remote chart is not embedded and the source
 * is returned as it is: the caller decides before coming here whether that may be (validate) or not.
 */
export async function stageSource(source: string, addon: AddonView, pull: PullOptions | undefined, label: string): Promise<StagedSource> {
  const chart = addon.spec.chart;
  const remote = chart?.remote;
  if (chart === undefined || remote === undefined || pull === undefined) {
    return { dir: source, addon, embedded: undefined, cleanup: async () => {} };
  }
  const dir = await mkdtemp(join(tmpdir(), "pk3s-stage-"));
  const off = onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  try {
    await copySource(source, dir, label);
    await embedRemoteChart(remote, join(dir, chart.path), pull, label);
    const manifest = join(dir, "addon.yaml");
    await writeFile(manifest, embeddedManifest(await readFile(manifest, "utf8"), chart.path, remote));
  } catch (err) {
    off();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const staged: AddonView = { ...addon, spec: { ...addon.spec, chart: { ...chart, remote: undefined, source: remote } } };
  return {
    dir,
    addon: staged,
    embedded: remote,
    cleanup: async () => {
      off();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
