/**
 * Authenticating to one registry, as docker and containerd do (distribution's "token authentication"):
 *
 * - the registry's challenge (`WWW-Authenticate` on `GET /v2/` or on any request) says the scheme;
 * - `Basic`: the user's credential, sent to the registry's own host only;
 * - `Bearer realm=…,service=…,scope=…`: a token from the realm (`GET realm?service=…&scope=…`, with the
 *   credential as Basic when there is one, anonymously otherwise), cached per scope until `expires_in`
 *   (default 60 s) runs out, fetched again on expiry or when the registry refuses it.
 *
 * The credential goes to the registry and to the token service it names, never elsewhere (a redirect
 * drops it, `http-fetcher.ts`), and never over plain HTTP except to a loopback host or with --plain-http.
 * Refusals become one clear error (exit 1): credentials needed, credentials rejected, or access denied.
 */
import { ExitCode, Pk3sError } from "@productive-k3s/pkg-format/errors";
import { displayUrl } from "../fetch/fetcher.js";
import type { Transport } from "../fetch/transport.js";
import { isLoopbackRegistry } from "./reference.js";
import type { RegistryCredential } from "./registry-credentials.js";

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** The first challenge of a `WWW-Authenticate` header (`Bearer realm="…",service="…"`). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (m === null) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/g;
  for (let p = re.exec(m[2]!); p !== null && p[0] !== ""; p = re.exec(m[2]!)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

/** The token scope of a repository operation: `repository:team/addons/x:pull` (or `pull,push`). */
export function repositoryScope(repository: string, push = false): string {
  return `repository:${repository}:${push ? "pull,push" : "pull"}`;
}

export const CATALOG_SCOPE = "registry:catalog:*";

/** The actions a scope asks for, in words: "pull", "push to". */
function actionWords(scope: string): string {
  const m = /^repository:(.+):([^:]+)$/.exec(scope);
  if (m === null) return `use ${scope === CATALOG_SCOPE ? "the repository list" : scope}`;
  return `${m[2]!.includes("push") ? "push to" : "pull from"} repository ${m[1]}`;
}

export function authError(message: string, where: string, hint: string): Pk3sError {
  return new Pk3sError("E_AUTH", ExitCode.failed, message, { where, hint });
}

interface CachedToken {
  authorization: string;
  expiresAt: number;
}

/** Seconds before its stated expiry at which a token is fetched again. */
const EXPIRY_MARGIN_MS = 5_000;
const DEFAULT_TOKEN_SECONDS = 60;
const TOKEN_RESPONSE_MAX_BYTES = 1024 * 1024;

export interface RegistryAuthOptions {
  registry: string;
  credential: RegistryCredential | undefined;
  transport: Transport;
  /** CA certificates for the token service (the registry's). */
  ca: readonly string[] | undefined;
  /** Plain HTTP allowed to the registry (flag or settings): then also to its token service. */
  plainHttp: boolean;
  now?: () => number;
}

export class RegistryAuth {
  private scheme: "basic" | "bearer" | undefined;
  private bearer: { realm: URL; service: string | undefined } | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly now: () => number;

  constructor(private readonly options: RegistryAuthOptions) {
    this.now = options.now ?? Date.now;
  }

  get username(): string | undefined {
    return this.options.credential?.username;
  }

  /** Remember what the registry asked for (from `GET /v2/` or any 401). */
  learn(challenge: Challenge | undefined): void {
    if (challenge === undefined) return;
    if (challenge.scheme === "basic") this.scheme = "basic";
    else if (challenge.scheme === "bearer" && challenge.params.realm !== undefined) {
      let realm: URL;
      try {
        realm = new URL(challenge.params.realm);
      } catch {
        throw authError(
          `registry ${this.options.registry} named an invalid token service "${challenge.params.realm}"`,
          this.options.registry,
          "the registry's auth.token.realm must be an absolute URL",
        );
      }
      this.scheme = "bearer";
      this.bearer = { realm, service: challenge.params.service };
    }
  }

  /** How the registry asked to be authenticated (after `GET /v2/`); undefined when it did not. */
  get challengeScheme(): "basic" | "bearer" | undefined {
    return this.scheme;
  }

  /** `pk3s registry login`: a token for no particular scope proves a credential to a token service. */
  async verifyWithTokenService(): Promise<void> {
    await this.fetchToken("", []);
  }

  /** The Authorization for a request in `scope`, or undefined to go anonymously (a challenge will say if not). */
  async authorization(scope: string): Promise<string | undefined> {
    if (this.scheme === "basic") return this.basic();
    if (this.scheme !== "bearer") return undefined;
    const cached = this.tokens.get(scope);
    if (cached !== undefined && this.now() < cached.expiresAt - EXPIRY_MARGIN_MS) return cached.authorization;
    return this.fetchToken(scope, [scope]);
  }

  /**
   * A request in `scope` was answered 401 with `header`, after sending `sent`: learn the challenge and get
   * new authorization (a fresh token: the cached one may have expired or lack the scope). Throws when there
   * is nothing better to send. The caller tries once more with the answer, then gives up with `refused`.
   */
  async answer(header: string | undefined, scope: string, sent: string | undefined): Promise<string> {
    const challenge = parseChallenge(header);
    const before = this.scheme;
    this.learn(challenge);
    if (this.scheme === "basic") {
      const basic = this.basic();
      if (basic === undefined) throw this.needsCredentials(scope);
      if (sent === basic && before === "basic") throw this.rejected();
      return basic;
    }
    if (this.scheme === "bearer") {
      this.tokens.delete(scope);
      const scopes = [scope, ...(challenge?.params.scope?.split(" ") ?? [])];
      return this.fetchToken(scope, [...new Set(scopes)]);
    }
    throw authError(
      `registry ${this.options.registry} refused the request (HTTP 401) without saying how to authenticate`,
      this.options.registry,
      "the registry must answer 401 with a WWW-Authenticate header (Basic or Bearer)",
    );
  }

  /** The error for a request still refused after authorization was sent. */
  refused(scope: string): Pk3sError {
    return this.scheme === "basic" ? this.rejected() : this.insufficient(scope);
  }

  private basic(): string | undefined {
    const c = this.options.credential;
    return c === undefined ? undefined : `Basic ${Buffer.from(`${c.username}:${c.password}`, "utf8").toString("base64")}`;
  }

  private loginHint(): string {
    return `log in: pk3s registry login ${this.options.registry} --username USER --password-stdin (or docker login ${this.options.registry})`;
  }

  private needsCredentials(scope: string): Pk3sError {
    return authError(
      `registry ${this.options.registry} requires credentials to ${actionWords(scope)}`,
      this.options.registry,
      this.loginHint(),
    );
  }

  private rejected(): Pk3sError {
    const c = this.options.credential;
    return authError(
      `registry ${this.options.registry} rejected the credentials of user "${c?.username ?? ""}" (from ${c?.source ?? "?"})`,
      this.options.registry,
      `check the user name and password; ${this.loginHint()}`,
    );
  }

  private insufficient(scope: string): Pk3sError {
    const c = this.options.credential;
    if (c === undefined) return this.needsCredentials(scope);
    return authError(
      `registry ${this.options.registry}: user "${c.username}" may not ${actionWords(scope)}`,
      this.options.registry,
      "ask the registry's administrator for access, or log in as another user",
    );
  }

  /** May the credential travel to the token service at `realm`? */
  private mayCarryCredential(realm: URL): boolean {
    return realm.protocol === "https:" || this.options.plainHttp || isLoopbackRegistry(realm.host);
  }

  private async fetchToken(cacheKey: string, scopes: string[]): Promise<string> {
    const bearer = this.bearer;
    if (bearer === undefined) throw this.needsCredentials(cacheKey);
    const url = new URL(bearer.realm);
    if (bearer.service !== undefined) url.searchParams.set("service", bearer.service);
    for (const s of scopes) url.searchParams.append("scope", s);
    const credential = this.options.credential;
    if (credential !== undefined && !this.mayCarryCredential(bearer.realm)) {
      throw authError(
        `registry ${this.options.registry} sends credentials to a plain-HTTP token service (${displayUrl(bearer.realm)}): refused`,
        displayUrl(bearer.realm),
        `only a loopback token service, or one allowed with --plain-http (or pk3s registry set ${this.options.registry} --plain-http), gets credentials over plain HTTP`,
      );
    }
    if (credential !== undefined) url.searchParams.set("account", credential.username);
    const issuedAt = this.now();
    const body = await this.options.transport.fetch(
      {
        url,
        label: `registry ${this.options.registry} token service`,
        auth: credential === undefined ? undefined : { origin: url.origin, authorization: this.basic()! },
        ca: this.options.ca,
        headers: { accept: "application/json" },
        maxBytes: TOKEN_RESPONSE_MAX_BYTES,
        returnStatus: (status) => status === 401 || status === 403,
      },
      async (res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of res.body) chunks.push(Buffer.from(chunk));
        return { status: res.status, text: Buffer.concat(chunks).toString("utf8") };
      },
    );
    if (body.status === 401 || body.status === 403) {
      if (credential !== undefined) throw this.rejected();
      throw this.needsCredentials(cacheKey);
    }
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(body.text) as typeof doc;
    } catch {
      throw authError(
        `registry ${this.options.registry}: its token service answered something that is not JSON`,
        displayUrl(bearer.realm),
        "check the registry's auth.token.realm",
      );
    }
    const token = typeof doc.token === "string" && doc.token !== "" ? doc.token : doc.access_token;
    if (typeof token !== "string" || token === "") {
      throw authError(
        `registry ${this.options.registry}: its token service answered without a token`,
        displayUrl(bearer.realm),
        "check the registry's auth.token.realm",
      );
    }
    const seconds =
      typeof doc.expires_in === "number" && Number.isFinite(doc.expires_in) && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_SECONDS;
    const authorization = `Bearer ${token}`;
    this.tokens.set(cacheKey, { authorization, expiresAt: issuedAt + seconds * 1000 });
    return authorization;
  }
}
