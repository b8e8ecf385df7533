/**
 * Reading Core's `addon status <name> --json` answer leniently: exit 3 means
 * not installed; otherwise the installed version is looked up in the usual
 * places (`version`, `record.version`, `installed.version`, `addon.version`).
 */
export interface InstalledState {
  installed: boolean;
  version?: string | undefined;
  status?: string | undefined;
}

function pickString(obj: unknown, ...path: string[]): string | undefined {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === "string" ? cur : undefined;
}

export function parseStatusOutput(exitCode: number, stdout: string): InstalledState {
  if (exitCode === 3) return { installed: false };
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return { installed: false };
  }
  if (typeof doc !== "object" || doc === null) return { installed: false };
  const d = doc as Record<string, unknown>;
  if (d.installed === false || d.found === false) return { installed: false };
  const version =
    pickString(d, "version") ??
    pickString(d, "record", "version") ??
    pickString(d, "installed", "version") ??
    pickString(d, "addon", "version") ??
    pickString(d, "result", "version");
  const status =
    pickString(d, "addon", "status") ?? pickString(d, "status") ?? pickString(d, "record", "status") ?? pickString(d, "result", "status");
  const bad = status !== undefined && /fail|interrupt|uninstall|absent|not.?installed|pending/i.test(status);
  return { installed: version !== undefined && !bad, version, status };
}
