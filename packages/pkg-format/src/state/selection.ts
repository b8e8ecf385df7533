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
  if (splitUrl(value) === undefined) throw new UsageError(`${origin} is not a valid postgres:// URL`, { where: origin, hint });
  return { kind: "postgres", url: value, origin };
}

export const PASSWORD_MASK = "****";

/**
 * A libpq URL, cut where its password can be: `scheme://` `user` `:password` `@` `rest`. Parsed by hand:
 * libpq's forms include some a WHATWG URL rejects (`postgres://user@/db?host=/socket/dir`, several hosts).
 */
interface UrlParts {
  scheme: string;
  user: string | undefined;
  password: string | undefined;
  rest: string;
}

function splitUrl(url: string): UrlParts | undefined {
  const scheme = /^postgres(?:ql)?:\/\//i.exec(url)?.[0];
  if (scheme === undefined || /\s/.test(url)) return undefined;
  const afterScheme = url.slice(scheme.length);
  // The user-info ends at the last "@" before the query (a password with an unencoded "@" or "/" still masks whole).
  const query = afterScheme.indexOf("?");
  const at = (query === -1 ? afterScheme : afterScheme.slice(0, query)).lastIndexOf("@");
  if (at === -1) return { scheme, user: undefined, password: undefined, rest: afterScheme };
  const userinfo = afterScheme.slice(0, at);
  const colon = userinfo.indexOf(":");
  return {
    scheme,
    user: colon === -1 ? userinfo : userinfo.slice(0, colon),
    password: colon === -1 ? undefined : userinfo.slice(colon + 1),
    rest: afterScheme.slice(at + 1),
  };
}

const isPasswordParam = (param: string): boolean => /^(ssl)?password=/i.test(param);

/** Rewrite the query parameters of `rest` (`host/db?a=1&b=2#x`); `undefined` drops a parameter. */
function editParams(rest: string, edit: (param: string) => string | undefined): string {
  const hash = rest.indexOf("#");
  const beforeHash = hash === -1 ? rest : rest.slice(0, hash);
  const fragment = hash === -1 ? "" : rest.slice(hash);
  const q = beforeHash.indexOf("?");
  if (q === -1) return rest;
  const params = beforeHash
    .slice(q + 1)
    .split("&")
    .map(edit)
    .filter((x): x is string => x !== undefined);
  return `${beforeHash.slice(0, q)}${params.length === 0 ? "" : `?${params.join("&")}`}${fragment}`;
}

function joinUrl(p: UrlParts, password: string | undefined): string {
  const userinfo = p.user === undefined && password === undefined ? "" : `${p.user ?? ""}${password === undefined ? "" : `:${password}`}@`;
  return `${p.scheme}${userinfo}${p.rest}`;
}

/** The URL with its password (user-info or `?password=`) replaced by ****: the only form ever shown. */
export function maskedUrl(url: string): string {
  const p = splitUrl(url);
  if (p === undefined) return "postgres://(unparsable URL)";
  const rest = editParams(p.rest, (param) =>
    isPasswordParam(param) ? `${param.slice(0, param.indexOf("=") + 1)}${PASSWORD_MASK}` : param,
  );
  return joinUrl({ ...p, rest }, p.password === undefined || p.password === "" ? p.password : PASSWORD_MASK);
}

/** The URL without any password, for a tool that gets the password some other way (PGPASSWORD). */
export function urlWithoutPassword(url: string): string {
  const p = splitUrl(url);
  if (p === undefined) return "postgres://(unparsable URL)";
  return joinUrl({ ...p, rest: editParams(p.rest, (param) => (isPasswordParam(param) ? undefined : param)) }, undefined);
}

/** The password the URL carries (user-info first, then `?password=`), decoded. */
export function urlPassword(url: string): string | undefined {
  const p = splitUrl(url);
  if (p === undefined) return undefined;
  if (p.password !== undefined && p.password !== "") return safeDecode(p.password);
  const param = /[?&]password=([^&#]*)/i.exec(p.rest)?.[1];
  return param === undefined || param === "" ? undefined : safeDecode(param);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
