/**
 * `addon forget <name>`: drop Core's install record of an add-on (and the
 * package kept for its uninstall hooks) without touching the cluster. For a
 * cluster that is going away with everything on it (Infra's `profile destroy
 * --forget-addons`), or a record whose cluster no longer exists. Holds the
 * add-on's lock like every other state change; the run logs stay.
 */
import { NotFoundError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { describeTarget, type KubeOptions, resolveKubeTarget } from "../cluster/kubeconfig.js";
import { clusterStore, readRecord, removeRecord } from "../records/store.js";
import { withAddonLock } from "./addon-run.js";

export interface ForgetResult {
  ok: true;
  name: string;
  version: string;
  cluster: { server: string; context: string };
  forgotten: true;
}

export async function forgetAddon(options: KubeOptions & { name: string; breakLock?: boolean | undefined }): Promise<ForgetResult> {
  const name = assertValidName("package", options.name, "add-on name");
  const target = await resolveKubeTarget(options);
  const store = clusterStore(target);
  const command = `productive-k3s-core addon forget ${name}`;
  return withAddonLock(store, name, { command, breakLock: options.breakLock === true }, async () => {
    const record = await readRecord(store, name);
    if (record === undefined) {
      throw new NotFoundError(`${name} is not installed on ${describeTarget(target)}`, {
        where: target.server,
        hint: "list what is installed with: productive-k3s-core addon list",
      });
    }
    await removeRecord(store, name);
    return { ok: true, name, version: record.version, cluster: { server: target.server, context: target.context }, forgotten: true };
  });
}
