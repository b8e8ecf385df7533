// The results table: plain text for the terminal, Markdown for bench/RESULTS.md (included in the README).
const COLUMNS = [
  ["case", "case"],
  ["ours", "ours"],
  ["baseline", "baseline"],
  ["ratio", "ratio"],
  ["helm", "helm"],
  ["vsHelm", "÷ helm"],
  ["target", "target"],
  ["pass", "pass/fail"],
];

function cells(r) {
  return COLUMNS.map(([key]) => (key === "pass" ? (r.pass ? "pass" : "FAIL") : String(r[key] ?? "—")));
}

export function renderTable(rows) {
  const body = rows.map(cells);
  const head = COLUMNS.map(([, title]) => title);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  const line = (c) =>
    c
      .map((v, i) => v.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

export function renderMarkdown(rows, meta) {
  const head = COLUMNS.map(([, title]) => title);
  const lines = [
    "# Benchmark results",
    "",
    `Produced by \`${meta.command}\` on ${meta.date} (Node ${meta.node}, ${meta.cpus} × ${meta.cpuModel}, load average ${meta.loadStart} at the`,
    `start, ${meta.loadEnd} at the end); harness time ${meta.totalSeconds} s. Median of ${meta.runs} measured runs (${meta.runs * 3} for start-up) after a warm-up, ours and baseline`,
    'alternating; "(n runs)" marks a case cut short by its time budget. Time rows: ratio = ours ÷ baseline (lower is better);',
    "throughput rows: ratio = our throughput ÷ the baseline's (higher is better). helm: the real helm (scripts/real-tools.mjs)",
    'in the same alternation, ÷ helm = ours ÷ helm; a target written "× helm" is checked against that column. Raw samples: bench/out/results.json.',
    "",
    ...markdownTable(head, rows.map(cells)),
    "",
  ];
  return lines.join("\n");
}

/** A markdown table with padded columns: the layout the repository's formatter (biome) keeps, so lint passes. */
function markdownTable(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, 3, ...body.map((r) => r[i].length)));
  const row = (cellsOfRow) => `| ${cellsOfRow.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [row(head), row(widths.map((w) => "-".repeat(w))), ...body.map(row)];
}
