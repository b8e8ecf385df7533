/** `pk3s push`: one package to an OCI registry, over a session's transport (`../oci/push.ts` does the work). */
import { type PushResult, pushPackage } from "../oci/push.js";
import type { RegistryFlags } from "../oci/registry-settings.js";
import { withSession } from "./session.js";

export interface PushCommandInput extends RegistryFlags {
  file: string;
  destination: string;
  force?: boolean | undefined;
}

export function push(input: PushCommandInput): Promise<PushResult> {
  return withSession({ registry: { caFile: input.caFile, plainHttp: input.plainHttp } }, (session) =>
    pushPackage({ file: input.file, destination: input.destination, force: input.force, transport: session.transport }),
  );
}
