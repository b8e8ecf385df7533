/** Finding productive-k3s-core / productive-k3s-infra (pkg-format's runtime-bin), from pk3s's own dependencies. */
import {
  findRuntime as findFrom,
  type RuntimeCommand,
  type RuntimeName,
  requireRuntime as requireFrom,
} from "@productive-k3s/pkg-format/runtime-bin";

export type { RuntimeCommand, RuntimeName };

export const findRuntime = (runtime: RuntimeName, flagValue?: string): RuntimeCommand | undefined =>
  findFrom(runtime, import.meta.url, flagValue);

export const requireRuntime = (runtime: RuntimeName, flagValue?: string): RuntimeCommand =>
  requireFrom(runtime, import.meta.url, flagValue);
