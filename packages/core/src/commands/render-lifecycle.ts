/**
 * Human renderings of the installed add-on's lifecycle commands (backup,
 * backups, history, validate-installed); the impact line install and
 * uninstall share. Text from a package, a record or a tool goes through
 * terminalLine.
 */
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { formatColumns } from "@productive-k3s/pkg-format/text-table";
import { type HostChanges, type Impact, impactLine } from "../lifecycle/impact.js";
import type { BackupInfo, BackupResult, BackupsResult } from "../operations/backup.js";
import type { HistoryResult } from "../operations/history.js";
import type { ValidateInstalledResult } from "../operations/validate-installed.js";

const t = terminalLine;
const where = (c: { server: string; context: string }): string => `${t(c.server)} (context ${t(c.context)})`;
const short = (digest: string | undefined): string =>
  digest === undefined ? "-" : digest.replace(/^([a-z0-9-]+:)([0-9a-f]{12})[0-9a-f]*$/, "$1$2");

const HOST_CHANGES: Record<HostChanges, string> = {
  "not-needed": "",
  allowed: " (allowed: --allow-host-changes)",
  confirmed: " (allowed on the terminal)",
  needed: " (a real run needs --allow-host-changes)",
};

/** `Impact: longhorn 0.1.0 changes the cluster and this machine (...)`. */
export function impactLines(name: string, version: string, impact: Impact | undefined, host: HostChanges | undefined): string[] {
  if (impact === undefined) return [];
  return [`Impact: ${impactLine(name, version, impact)}${impact.host && host !== undefined ? HOST_CHANGES[host] : ""}`];
}

export function backupLine(b: BackupInfo): string {
  return `backup ${b.id} of ${b.name} ${b.version} (${b.reason}): ${t(b.dir)}`;
}

export function renderBackup(r: BackupResult): string {
  return [backupLine(r.backup), `  cluster: ${where(r.cluster)}`, `  run log: ${t(r.backup.runLog)}`].join("\n");
}

export function renderBackups(r: BackupsResult): string {
  if (r.backups.length === 0) return `No backups of ${r.name} kept for ${where(r.cluster)}.`;
  const rows = [["ID", "VERSION", "REASON", "CREATED", "FOLDER"]];
  for (const b of r.backups) rows.push([b.id, b.version, b.reason, t(b.createdAt), t(b.dir)]);
  return formatColumns(rows);
}

export function renderHistory(r: HistoryResult): string {
  const rows = [["REVISION", "ACTION", "VERSION", "DIGEST", "VALUES", "UPDATED", "RESULT", "PACKAGE"]];
  for (const h of r.revisions) {
    rows.push([
      h.revision === undefined ? "-" : `${h.revision}${h.current ? "*" : ""}`,
      h.action,
      h.version,
      short(h.digest),
      short(h.valuesFingerprint),
      t(h.endedAt),
      h.failedStep === undefined ? h.status : `${h.status} at ${t(h.failedStep)}`,
      h.packageKept ? "kept" : "-",
    ]);
  }
  return `${r.name} on ${where(r.cluster)} (* the installed revision)\n${formatColumns(rows)}`;
}

export function renderValidateInstalled(r: ValidateInstalledResult): string {
  return [`${r.name} ${r.version}: validate passed on ${where(r.cluster)}`, `  run log: ${t(r.runLog)}`].join("\n");
}
