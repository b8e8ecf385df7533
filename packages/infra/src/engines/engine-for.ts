/**
 * The one place that maps an engine type to its implementation. `shell` is
 * accepted as an alias of `script` (the manifest schema already maps it; a
 * stored record may still say it).
 */
import type { ProfileManifest } from "@productive-k3s/pkg-format/schema-profile";
import { ansible } from "./ansible.js";
import type { Engine, EngineKind } from "./engine.js";
import { opentofu } from "./opentofu.js";
import { script } from "./script.js";

const KINDS: Readonly<Record<string, EngineKind>> = { opentofu, ansible, script, shell: script };

/** The engine type, or undefined when no implementation has that name. */
export function engineKind(type: string): EngineKind | undefined {
  return Object.hasOwn(KINDS, type) ? KINDS[type] : undefined;
}

/** A fresh engine for one command on this profile. */
export function engineFor(manifest: ProfileManifest): Engine {
  const kind = engineKind(manifest.spec.engine.type);
  // The manifest schema only admits the types above.
  if (kind === undefined) throw new Error(`no engine implements type ${JSON.stringify(manifest.spec.engine.type)}`);
  return kind.create(manifest);
}
