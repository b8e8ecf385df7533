// Whole-process wall time and peak RSS of one command run.
// A tiny python3 wrapper times the child with perf_counter (its own start-up is
// not counted) and reads the peak RSS of the largest process in the child's tree
// from getrusage(RUSAGE_CHILDREN), which Node cannot report for a child.
// Without python3 (or with BENCH_NO_PYTHON=1): GNU time's %M, else no RSS.
import { spawnSync } from "node:child_process";

const WRAPPER = `
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
ms = (time.perf_counter() - t) * 1000
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stdout.write(json.dumps({"ms": ms, "rssKiB": rss, "code": p.returncode, "stderr": p.stderr.decode(errors="replace")[-2000:]}))
`;

let hasPython;
function python() {
  if (hasPython === undefined) hasPython = process.env.BENCH_NO_PYTHON !== "1" && spawnSync("python3", ["-c", "0"]).status === 0;
  return hasPython;
}
let hasTime;
function gnuTime() {
  if (hasTime === undefined) hasTime = spawnSync("/usr/bin/time", ["-f", "%M", "true"]).status === 0;
  return hasTime;
}

/**
 * Run argv (array; use ["bash","-c",script] for pipelines) and measure it: wall time in ms and the peak
 * RSS (KiB) of the largest process in its tree. Uses python3 (getrusage), else GNU time, else no RSS.
 * Throws when the command fails.
 */
export function measure(argv, { env = process.env, cwd } = {}) {
  let result;
  if (python()) {
    const r = spawnSync("python3", ["-c", WRAPPER, ...argv], { env, cwd, encoding: "utf8", maxBuffer: 1 << 24 });
    result = JSON.parse(r.stdout || '{"code":-1,"stderr":"wrapper failed"}');
  } else {
    const timed = gnuTime();
    const cmd = timed ? ["/usr/bin/time", "-f", "\n%M", ...argv] : argv;
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd[0], cmd.slice(1), { env, cwd, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", maxBuffer: 1 << 24 });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    let stderr = r.stderr ?? "";
    let rssKiB = null;
    if (timed) {
      const lines = stderr.trimEnd().split("\n");
      rssKiB = Number(lines.pop()) || null;
      stderr = lines.join("\n");
    }
    result = { ms, rssKiB, code: r.status, stderr };
  }
  if (result.code !== 0) {
    throw new Error(`benchmark command failed (exit ${result.code}): ${argv.join(" ")}\n${result.stderr}`);
  }
  return result;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Run `ours`, `baseline` and (when given) `helm` alternately after `warmup` runs of each (or a warm-up function), then `runs` measured runs,
 * with `before(side)` (e.g. clearing a cache) ahead of every single run (not timed).
 * `budgetMs` bounds the measured runs: when the warm-up shows that `runs` iterations would take longer,
 * fewer are made (at least one) and `overBudget` says so; a case within its target always fits.
 * Returns medians, every sample and the largest peak RSS seen for each side.
 */
export function compare({ ours, baseline, helm, runs = 5, warmup = 1, budgetMs = Number.POSITIVE_INFINITY, before = () => {}, env, cwd }) {
  const one = (side, argv) => {
    before(side);
    return measure(argv, { env, cwd });
  };
  const o = [];
  const b = [];
  const h = [];
  if (typeof warmup === "function") {
    warmup(); // a case-specific warm-up, e.g. reading the inputs into the page cache
  } else {
    for (let i = 0; i < warmup; i++) {
      one("ours", ours);
      if (baseline) one("baseline", baseline);
      if (helm) one("helm", helm);
    }
  }
  // The first measured iteration sizes the budget.
  o.push(one("ours", ours));
  if (baseline) b.push(one("baseline", baseline));
  if (helm) h.push(one("helm", helm));
  const perIteration = o[0].ms + (b[0]?.ms ?? 0) + (h[0]?.ms ?? 0);
  const planned = perIteration * runs > budgetMs ? Math.max(1, Math.floor(budgetMs / perIteration)) : runs;
  while (o.length < planned) {
    o.push(one("ours", ours));
    if (baseline) b.push(one("baseline", baseline));
    if (helm) h.push(one("helm", helm));
  }
  const maxRss = (rs) => Math.max(...rs.map((r) => r.rssKiB ?? 0)) || null;
  return {
    runs: planned,
    overBudget: planned < runs,
    oursMs: median(o.map((r) => r.ms)),
    baselineMs: baseline ? median(b.map((r) => r.ms)) : null,
    oursSamplesMs: o.map((r) => Math.round(r.ms)),
    baselineSamplesMs: b.map((r) => Math.round(r.ms)),
    oursRssKiB: maxRss(o),
    baselineRssKiB: baseline ? maxRss(b) : null,
    helmMs: helm ? median(h.map((r) => r.ms)) : null,
    helmSamplesMs: h.map((r) => Math.round(r.ms)),
    helmRssKiB: helm ? maxRss(h) : null,
  };
}
