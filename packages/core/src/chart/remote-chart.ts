/**
 * A remote chart (spec.chart `ref: oci://…` or `repo: https://…` + `name`), pulled with helm, checked
 * against its pinned digest (the sha256 of the chart .tgz) BEFORE anything reads it, then extracted with
 * the package extractor's rules (no links, traversal or devices; size and ratio limits) into the
 * directory it is embedded at. A wrong digest is an integrity error (exit 6) and leaves nothing behind.
 *
 * helm does the transfer so the author's helm setup applies: `helm registry login` credentials for OCI,
 * proxies, CAs. A plain-HTTP registry (e.g. one on loopback) needs `plainHttp` (helm's `--plain-http`).
 */
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { digestsEqual, sha256File } from "@productive-k3s/pkg-format/digest";
import { IntegrityError, NotFoundError, StepFailedError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { extractFiles } from "@productive-k3s/pkg-format/extract";
import { onInterrupt } from "@productive-k3s/pkg-format/interrupts";
import type { RemoteChart } from "@productive-k3s/pkg-format/schema-addon";
import { describeRemote } from "../manifest-view.js";
import { helmErrorText, runHelm, throwToolFailure } from "./helm-run.js";

export interface PullOptions {
  helm: string;
  /** helm `--plain-http`: talk to the OCI registry over HTTP (loopback or a trusted network only). */
  plainHttp?: boolean | undefined;
}

const PULL_TIMEOUT_MS = 300_000;

/** `helm pull` of exactly the pinned version into `destination`, as a .tgz (never --untar: the bytes are checked first). */
export function helmPullArgs(r: RemoteChart, destination: string, plainHttp: boolean): string[] {
  const chart = r.ref !== undefined ? [r.ref] : [r.name, "--repo", r.repo as string];
  return [
    "pull",
    ...chart,
    "--version",
    r.version,
    "--destination",
    destination,
    ...(plainHttp && r.ref !== undefined ? ["--plain-http"] : []),
  ];
}

/** The pulled .tgz (the one file helm wrote), its digest checked against the pin. */
async function pullVerified(r: RemoteChart, dir: string, options: PullOptions, label: string): Promise<string> {
  const what = `helm pull of ${describeRemote(r)}`;
  const result = await runHelm(options.helm, helmPullArgs(r, dir, options.plainHttp === true), what, { timeoutMs: PULL_TIMEOUT_MS });
  if (result.exitCode !== 0) {
    throwToolFailure(result, what);
    const why = helmErrorText(result.stderr);
    const hint = /HTTP response to HTTPS client/.test(why)
      ? "the registry speaks plain HTTP: pass --plain-http (only for a registry on loopback or a network you trust)"
      : r.ref !== undefined
        ? "check spec.chart.ref and spec.chart.version; a private registry needs `helm registry login`, a plain-HTTP one --plain-http"
        : "check spec.chart.repo, spec.chart.name and spec.chart.version";
    // helm says "not found" for an unknown chart, version or repository path; the rest is the transfer failing.
    if (/not found/i.test(why)) throw new NotFoundError(`cannot pull the chart ${describeRemote(r)}: ${why}`, { where: label, hint });
    throw new StepFailedError(`cannot pull the chart ${describeRemote(r)}: ${why}`, { where: label, hint });
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith(".tgz"));
  if (files.length !== 1) throw new ValidationError(`helm pull of ${describeRemote(r)} wrote ${files.length} chart archives, expected one`);
  const tgz = join(dir, files[0] as string);
  const actual = await sha256File(tgz);
  if (!digestsEqual(actual, r.digest)) {
    throw new IntegrityError(
      "digest-mismatch",
      `the chart ${describeRemote(r)} has digest ${actual}, but spec.chart.digest pins ${r.digest}`,
      {
        where: label,
        hint: "nothing was written; if the chart was republished on purpose, check it and pin its new digest in spec.chart.digest",
      },
    );
  }
  return tgz;
}

/**
 * Pull, verify and extract the chart into `destination` (which must not exist; it appears whole or not at
 * all: the work happens in a private folder beside it). `label` names the source in messages.
 */
export async function embedRemoteChart(r: RemoteChart, destination: string, options: PullOptions, label: string): Promise<void> {
  await mkdir(dirname(destination), { recursive: true });
  const work = await mkdtemp(join(dirname(destination), ".pk3s-pull-"));
  const off = onInterrupt(() => rmSync(work, { recursive: true, force: true }));
  try {
    const download = join(work, "download");
    await mkdir(download);
    const tgz = await pullVerified(r, download, options, label);
    const extracted = await extractFiles(tgz, { destination: join(work, "chart") });
    // `helm package` puts every file under one directory named after the chart.
    const tops = new Set([...extracted.files.map((f) => f.path), ...extracted.directories].map((p) => p.split("/")[0]));
    const top = tops.size === 1 ? [...tops][0] : undefined;
    if (top === undefined || !extracted.files.some((f) => f.path === `${top}/Chart.yaml`)) {
      throw new ValidationError(
        `${describeRemote(r)} is not a Helm chart archive: expected <chart>/Chart.yaml and the chart's files under it`,
        [],
        {
          where: label,
        },
      );
    }
    await rename(join(extracted.dir, top), destination);
  } finally {
    off();
    await rm(work, { recursive: true, force: true });
  }
}
