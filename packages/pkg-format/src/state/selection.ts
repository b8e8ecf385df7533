/**
 * Which state backend a command uses (DESIGN.md §5): `local` (files under the
 * state directory, the default) or a PostgreSQL URL shared by a team. From
 * the command's `--state-backend` flag when given, else `PK3S_STATE_BACKEND`.
 *
 * The URL may carry a password. It is taken out of this process's
 * environment when a runtime starts (`captureStateBackendEnv`), so no child
 * — tofu, ansible-playbook, hooks, helm — inherits it; messages only ever
 * show it through `maskedUrl`. A runtime that runs another runtime hands the
 * choice on explicitly with `stateBackendChildEnv`.
 *
 * Small on purpose: the runtimes import it at start-up.
 */
import type { Command } from "commander";
import { UsageError } from "../errors.js";

export const STATE_BACKEND_ENV = "PK3S_STATE_BACKEND";
export const STATE_BACKEND_FLAG = "--state-backend";

export type StateBackendSpec = { kind: "local" } | { kind: "postgres"; url: string; origin: string };

let captured = false;
let fromEnv: string | undefined;
let fromFlag: string | undefined;

/** Read PK3S_STATE_BACKEND once and remove it from process.env (children must not inherit a password). */
export function captureStateBackendEnv(): void {
  if (captured) return;
  captured = true;
  const value = process.env[STATE_BACKEND_ENV];
  delete process.env[STATE_BACKEND_ENV];
  fromEnv = value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** The command's `--state-backend` value (undefined: not given); it wins over the environment. */
export function chooseStateBackend(flag: string | undefined): void {
  captureStateBackendEnv();
  if (flag !== undefined) fromFlag = flag.trim();
}

/**
 * On a runtime's root command: before any action runs, take PK3S_STATE_BACKEND out of the environment
 * and apply the command's `--state-backend`.
 */
export function useStateBackendOption(program: Command): Command {
  return program.hook("preAction", (_root, action) => chooseStateBackend(action.opts<{ stateBackend?: string }>().stateBackend));
}

/** The backend this process uses. A malformed value is a usage error (exit 2) that never prints it. */
export function stateBackendSpec(): StateBackendSpec {
  captureStateBackendEnv();
  if (fromFlag !== undefined) return parseStateBackend(fromFlag, STATE_BACKEND_FLAG);
  return parseStateBackend(fromEnv, STATE_BACKEND_ENV);
}

/** Environment for another runtime this one runs (Infra running Core): the same state backend. */
export function stateBackendChildEnv(): Record<string, string> {
  const spec = stateBackendSpec();
  return spec.kind === "postgres" ? { [STATE_BACKEND_ENV]: spec.url } : {};
}

export function parseStateBackend(value: string | undefined, origin: string): StateBackendSpec {
  if (value === undefined || value === "local") return { kind: "local" };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1]?.toLowerCase();
  const hint = 'use "local" (the default) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]';
  if (scheme !== "postgres" && scheme !== "postgresql") {
    throw new UsageError(`${origin} must be "local" or a postgres:// URL${scheme === undefined ? "" : ` (got a ${scheme}: URL)`}`, {
      where: origin,
      hint,
    });
  }
  try {
    new URL(value);
  } catch {
    throw new UsageError(`${origin} is not a valid postgres:// URL`, { where: origin, hint });
  }
  return { kind: "postgres", url: value, origin };
}

const PASSWORD_PARAMS = ["password", "sslpassword"];
export const PASSWORD_MASK = "****";

/** The URL with its password (user-info or `?password=`) replaced by ****: the only form ever shown. */
export function maskedUrl(url: string): string {
  return rewriteUrl(url, (u) => {
    if (u.password !== "") u.password = PASSWORD_MASK;
    for (const p of PASSWORD_PARAMS) if (u.searchParams.has(p)) u.searchParams.set(p, PASSWORD_MASK);
  });
}

/** The URL without any password, for a tool that gets the password some other way (PGPASSWORD). */
export function urlWithoutPassword(url: string): string {
  return rewriteUrl(url, (u) => {
    u.password = "";
    for (const p of PASSWORD_PARAMS) u.searchParams.delete(p);
  });
}

/** The password the URL carries (user-info first, then `?password=`), decoded. */
export function urlPassword(url: string): string | undefined {
  const u = new URL(url);
  if (u.password !== "") return decodeURIComponent(u.password);
  return u.searchParams.get("password") ?? undefined;
}

function rewriteUrl(url: string, edit: (u: URL) => void): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "postgres://(unparsable URL)";
  }
  edit(u);
  return u.toString();
}
