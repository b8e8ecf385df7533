/**
 * The registries one command talks to: a client per `host[:port]`, made on first use with that host's
 * connection settings (flags, `registries.json`) and credential (`registry-credentials.ts`), so its scheme,
 * challenge and tokens are learnt once per command.
 */
import type { Transport } from "../fetch/transport.js";
import { RegistryAuth } from "./registry-auth.js";
import { RegistryClient } from "./registry-client.js";
import { findCredential, type RegistryCredential } from "./registry-credentials.js";
import { connectionFor, loadRegistrySettings, type RegistryEntry, type RegistryFlags } from "./registry-settings.js";

export class Registries {
  private readonly clients = new Map<string, Promise<RegistryClient>>();
  private settings: Promise<Record<string, RegistryEntry>> | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly flags: RegistryFlags,
  ) {}

  client(registry: string): Promise<RegistryClient> {
    let client = this.clients.get(registry);
    if (client === undefined) {
      client = this.make(registry);
      this.clients.set(registry, client);
    }
    return client;
  }

  /** A client that uses `credential` instead of the stored one (`pk3s registry login` checks it before saving). */
  withCredential(registry: string, credential: RegistryCredential): Promise<RegistryClient> {
    return this.make(registry, credential);
  }

  private async make(registry: string, given?: RegistryCredential): Promise<RegistryClient> {
    this.settings ??= loadRegistrySettings();
    const connection = await connectionFor(registry, this.flags, await this.settings);
    const credential = given ?? (await findCredential(registry));
    const auth = new RegistryAuth({ registry, credential, transport: this.transport, ca: connection.ca, plainHttp: connection.plainHttp });
    return new RegistryClient(registry, this.transport, connection, auth);
  }
}
