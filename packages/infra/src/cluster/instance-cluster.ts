/**
 * The cluster an instance provisioned: its `kubeconfig` output, a path to the
 * kubeconfig (the profile convention pk3s also relies on). A sensitive
 * `kubeconfig` output is read from the instance's sensitive outputs; a value
 * that is the kubeconfig's content rather than a path names no file, so the
 * instance has no cluster Infra can look at.
 */
import type { InstancePaths, InstanceRecord } from "../state/instance-store.js";
import { readSensitiveOutputs } from "../state/instance-store.js";

export async function instanceKubeconfig(record: InstanceRecord, paths: InstancePaths): Promise<string | undefined> {
  let value: unknown = record.outputs.kubeconfig;
  if (value === undefined && record.sensitiveOutputs.includes("kubeconfig")) value = (await readSensitiveOutputs(paths)).kubeconfig;
  if (typeof value !== "string" || value === "" || value.includes("\n")) return undefined;
  return value;
}
