import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// Regenerates docs/json-output.md from real runs:
//   PK3S_JSON_CAPTURE_DIR=/tmp/cap npx vitest run --project e2e e2e/json-output.test.ts
//   node scripts/json-docs.mjs /tmp/cap [failures.json] > /tmp/json-docs.md
// then replace the section between the JSON-OUTPUT markers in docs/json-output.md.
const REPO = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const dir = process.argv[2];
// Optional: a JSON list of captured failure documents (the "Failures" examples were captured by hand).
const failures = process.argv[3] ? JSON.parse(readFileSync(process.argv[3], "utf8")) : [];
const files = readdirSync(dir);
const cap = Object.fromEntries(files.map((f) => [f.replace(/\.json$/, ""), JSON.parse(readFileSync(join(dir, f), "utf8"))]));
const root = (() => {
  for (const c of Object.values(cap)) {
    const m = JSON.stringify(c).match(/\/tmp\/pk3s-json-[A-Za-z0-9]+/);
    if (m) return m[0];
  }
})();
function path(s) {
  return s
    .replaceAll(`file://${REPO}/`, "file:///…/productive-k3s/")
    .replaceAll(`file://${root}/www`, "https://catalog.example.com")
    .replaceAll(`${root}/state`, "~/.local/state/productive-k3s")
    .replaceAll(`${root}/cache`, "~/.cache/productive-k3s")
    .replaceAll(`${root}/config`, "~/.config/productive-k3s")
    .replaceAll(`${root}/www`, "./packages")
    .replaceAll(`${root}/pkgs`, ".")
    .replaceAll(`${root}/work`, ".")
    .replaceAll(`${root}/`, "./")
    .replaceAll(`${REPO}/fixtures/kubeconfig/k3s.yaml`, "/etc/rancher/k3s/k3s.yaml")
    .replaceAll(`${REPO}/fixtures/env/`, "./")
    .replaceAll(`${REPO}/fixtures/profiles-src/`, "./")
    .replaceAll(`${REPO}/fixtures/`, "./")
    .replaceAll(`${REPO}/`, "./");
}
function str(s) {
  s = path(s);
  s = s.replace(/sha256:([0-9a-f]{12})[0-9a-f]{52}/g, "sha256:$1…").replace(/\/sha256\/([0-9a-f]{12})[0-9a-f]{52}/g, "/sha256/$1…");
  if (s.length > 72) s = `${s.slice(0, 69)}…`;
  return JSON.stringify(s);
}
const ELL = "…";
let rootKeys = 10;
// pk3s profile verbs that print Infra's document: shown briefly here, in full under productive-k3s-infra.
const BRIEF = { has: (c) => /^pk3s profile (plan|install|status|outputs|list|destroy)$/.test(c) };
function inline(v, depth) {
  if (typeof v === "string") return str(v);
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (depth >= 3) return Array.isArray(v) ? `[${ELL}]` : `{${ELL}}`;
  if (Array.isArray(v)) return v.length === 0 ? "[]" : `[${[inline(v[0], depth + 1), ...(v.length > 1 ? [ELL] : [])].join(", ")}]`;
  const keys = Object.keys(v);
  return keys.length === 0 ? "{}" : `{${keys.map((k) => `${JSON.stringify(k)}: ${inline(v[k], depth + 1)}`).join(", ")}}`;
}
function render(v, ind, depth) {
  if (ind > 0 && typeof v === "object" && v !== null) {
    const one = inline(v, depth);
    if (one.length + ind * 2 < 100) return one;
  }
  const pad = "  ".repeat(ind + 1),
    end = "  ".repeat(ind);
  if (typeof v === "string") return str(v);
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    if (v.every((x) => typeof x !== "object" || x === null) && JSON.stringify(v).length < 60)
      return `[${v.map((x) => render(x, 0, 0)).join(", ")}]`;
    if (depth >= 2) return `[${ELL}]`;
    const items = [render(v[0], ind + 1, depth)];
    if (v.length > 1) items.push(ELL);
    return `[\n${items.map((i) => pad + i).join(",\n")}\n${end}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return "{}";
  if (depth >= 2) return `{${ELL}}`;
  const shown = keys.slice(0, depth === 0 ? rootKeys : 6);
  const lines = shown.map((k) => `${pad}${JSON.stringify(k)}: ${render(v[k], ind + 1, depth + 1)}`);
  if (keys.length > shown.length) lines.push(pad + ELL);
  return `{\n${lines.join(",\n")}\n${end}}`;
}
function argv(a) {
  return a.map((x) => (/[\s{}$]/.test(x) ? `'${x}'` : path(x))).join(" ");
}
const groups = [
  [
    "pk3s",
    [
      "pk3s",
      "pk3s catalog add",
      "pk3s catalog list",
      "pk3s catalog remove",
      "pk3s catalog update",
      "pk3s catalog index",
      "pk3s catalog prune",
      "pk3s search",
      "pk3s addon show",
      "pk3s addon pull",
      "pk3s addon install",
      "pk3s addon validate",
      "pk3s addon template",
      "pk3s addon upgrade",
      "pk3s addon list",
      "pk3s addon status",
      "pk3s addon uninstall",
      "pk3s addon history",
      "pk3s addon rollback",
      "pk3s addon backup",
      "pk3s addon backups",
      "pk3s addon test",
      "pk3s addon contents",
      "pk3s profile show",
      "pk3s profile pull",
      "pk3s profile validate",
      "pk3s profile plan",
      "pk3s profile install",
      "pk3s profile status",
      "pk3s profile outputs",
      "pk3s profile list",
      "pk3s profile destroy",
      "pk3s profile contents",
      "pk3s stack show",
      "pk3s stack plan",
      "pk3s stack install",
      "pk3s stack status",
      "pk3s stack diff",
      "pk3s stack uninstall",
      "pk3s lock",
      "pk3s push",
      "pk3s registry login",
      "pk3s registry logout",
      "pk3s registry set",
      "pk3s registry list",
      "pk3s catalog trust add",
      "pk3s catalog trust list",
      "pk3s catalog trust remove",
      "pk3s catalog trust require",
      "pk3s key generate",
      "pk3s sign",
      "pk3s verify",
      "pk3s pack",
      "pk3s completion",
    ],
  ],
  [
    "productive-k3s-core",
    [
      "productive-k3s-core",
      "productive-k3s-core addon validate",
      "productive-k3s-core addon install",
      "productive-k3s-core addon upgrade",
      "productive-k3s-core addon uninstall",
      "productive-k3s-core addon status",
      "productive-k3s-core addon list",
      "productive-k3s-core addon template",
      "productive-k3s-core addon history",
      "productive-k3s-core addon rollback",
      "productive-k3s-core addon backup",
      "productive-k3s-core addon backups",
      "productive-k3s-core addon validate-installed",
      "productive-k3s-core addon forget",
      "productive-k3s-core dev addon validate",
      "productive-k3s-core dev addon install",
      "productive-k3s-core dev addon package",
    ],
  ],
  [
    "productive-k3s-infra",
    [
      "productive-k3s-infra",
      "productive-k3s-infra profile validate",
      "productive-k3s-infra profile plan",
      "productive-k3s-infra profile install",
      "productive-k3s-infra profile status",
      "productive-k3s-infra profile outputs",
      "productive-k3s-infra profile destroy",
      "productive-k3s-infra profile list",
      "productive-k3s-infra dev profile validate",
      "productive-k3s-infra dev profile plan",
      "productive-k3s-infra dev profile apply",
      "productive-k3s-infra dev profile destroy",
      "productive-k3s-infra dev profile package",
    ],
  ],
];
const notes = {
  "pk3s addon validate": "Delegated: this is productive-k3s-core's `addon validate` document.",
  "pk3s addon template": "Delegated: this is productive-k3s-core's `addon template` document.",
  "pk3s profile validate": "Delegated: pk3s prints productive-k3s-infra's document (here and for plan/install/status/destroy).",
  "pk3s addon install":
    "One step per package, dependencies first; `output` is Core's own document for that package (a dry run is one Core run: its `dependencyPackages` entries and the rest of its document).",
  "productive-k3s-core addon install":
    'With `--dry-run`: `dryRun: true`, no `status`/`steps`, and `commands: [{step, argv}]` (the exact argv Core would run). With `--dependency-tgz`: `dependencyPackages`, one entry per dependency in the order run: the same fields without `cluster`/`clusterInfo`, or `{action: "skip", installedVersion, requiredBy: [{by, range}], reason}` for one the cluster already satisfies.',
  "pk3s addon upgrade": 'The same document as `addon install`, with `mode: "upgrade"` (the add-on itself went to Core\'s `addon upgrade`).',
  "pk3s addon list":
    "Delegated: productive-k3s-core's `addon list` document (likewise `addon status` and `addon uninstall`); no catalog is read.",
  "pk3s completion": "Without `--json` the script itself is printed.",
};
const out = [];
const total = groups.reduce((n, g) => n + g[1].length, 0);
out.push(
  "Every command of the three binaries takes `--json`: stdout then holds exactly one JSON document (logs, progress and tool output stay on stderr).",
  'A success is `{"ok": true, ...}`; any failure, usage errors included, is',
  '`{"ok": false, "error": {"code", "exitCode", "message", "where"?, "hint"?, ...}}` with the exit code listed in [the README](../README.md#exit-codes)',
  "(`problems` for validation errors, `holder` for a held lock, `reason`/`entry` for integrity errors), while stderr still gets the human",
  "`error:` / `where:` / `hint:` lines. pk3s commands that delegate to a runtime (`addon validate|template|list|status|uninstall|history|rollback|backup|backups|test`, `profile validate|plan|install|status|outputs|list|destroy`)",
  "print the runtime's document unchanged. The examples below are real outputs of `e2e/json-output.test.ts` (with the helm/kubectl/tofu stubs),",
  "trimmed with `…`; paths shortened.",
  "",
);
for (const [bin, cmds] of groups) {
  out.push(`## \`${bin}\``, "");
  for (const c of cmds) {
    const key = c.replaceAll(" ", "_");
    const capd = cap[key];
    if (!capd) {
      out.push(`<!-- missing ${c} -->`);
      continue;
    }
    let doc = capd.doc;
    if (c === "pk3s completion") doc = { ...doc, script: `${doc.script.split("\n")[0]}\n…` };
    rootKeys = BRIEF.has(c) ? 4 : 10;
    const note = BRIEF.has(c)
      ? `Delegated: productive-k3s-infra's \`${c.replace("pk3s ", "")}\` document (below)${["pk3s profile plan", "pk3s profile install"].includes(c) ? "" : "; no catalog is read"}.`
      : notes[c];
    out.push(`**\`${c}\`**${note ? ` — ${note}` : ""}`, "", "```console", `$ ${argv(capd.argv)}`, render(doc, 0, 0), "```", "");
  }
}
out.push("## Failures", "");
for (const f of failures) {
  out.push("```console", `$ ${f.argv}`, path(f.stdout.trimEnd()), `$ echo $?`, String(f.code), "```", "");
}
console.log(out.join("\n"));
console.error(`commands: ${total}`);
