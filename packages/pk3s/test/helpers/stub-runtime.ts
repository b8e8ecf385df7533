/**
 * Stub runtimes for delegation tests: executable Node scripts that append
 * {bin, argv} as one JSON line to $STUB_LOG and exit with $STUB_EXIT_<verb>
 * (verb = first two argv words joined by "_", e.g. STUB_EXIT_addon_install)
 * or $STUB_EXIT; `$STUB_STDOUT_<verb>` is printed on stdout first.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SCRIPT = `#!/usr/bin/env node
const fs = require("node:fs");
const argv = process.argv.slice(2);
const name = process.env.STUB_NAME || "stub";
if (argv[0] === "--version") { console.log(name + " 9.9.9"); process.exit(0); }
const verb = argv.filter((a) => !a.startsWith("-")).slice(0, 2).join("_").replace(/[^A-Za-z0-9_]/g, "_");
if (process.env.STUB_LOG) fs.appendFileSync(process.env.STUB_LOG, JSON.stringify({ bin: name, argv }) + "\\n");
const out = process.env["STUB_STDOUT_" + verb];
if (out !== undefined) process.stdout.write(out);
const code = process.env["STUB_EXIT_" + verb] ?? process.env.STUB_EXIT ?? "0";
process.exit(Number(code));
`;

export function writeStubRuntime(dir: string, name: string): string {
  const file = join(dir, `${name}.cjs`);
  // A wrapper without the .js suffix so pk3s executes it directly, like an installed binary.
  const wrapper = join(dir, name);
  writeFileSync(file, SCRIPT);
  writeFileSync(wrapper, `#!/bin/sh\nSTUB_NAME=${name} exec "${process.execPath}" "${file}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

export interface StubCall {
  bin: string;
  argv: string[];
}

export function readStubLog(file: string): StubCall[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as StubCall);
}

/** Stub core and infra in `<root>/bin`, logging to `<root>/calls.jsonl`: the env that points pk3s at them. */
export function stubRuntimes(root: string): { log: string; env: Record<string, string> } {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  const log = join(root, "calls.jsonl");
  return {
    log,
    env: {
      PK3S_CORE_BIN: writeStubRuntime(bin, "productive-k3s-core"),
      PK3S_INFRA_BIN: writeStubRuntime(bin, "productive-k3s-infra"),
      STUB_LOG: log,
    },
  };
}

/** What `productive-k3s-core addon list --json` prints: a document that parses with the CoreAddonList schema. */
export function coreList(addons: { name: string; version: string; status: string }[]): string {
  const at = "2026-11-21T00:00:00.000Z";
  return JSON.stringify({
    ok: true,
    cluster: { server: "https://127.0.0.1:6443", context: "lab" },
    addons: addons.map((a) => ({
      ...a,
      digest: `sha256:${"0".repeat(64)}`,
      namespace: a.name,
      action: "install",
      installedAt: at,
      updatedAt: at,
      runLog: `/state/${a.name}.log`,
      steps: [],
      dependencies: [],
    })),
  });
}
