/**
 * profile.yaml (apiVersion infra.productive-k3s.io/v1, kind Profile).
 */
import { z } from "zod";
import { PROFILE_API_VERSION } from "./manifest-identity.js";
import { packageName, packagePath, profileInput, profileVersion } from "./schema-common.js";
import { ansibleInventory, inventoryInputs } from "./schema-inventory.js";

export { PROFILE_API_VERSION };

export const ProfileManifestSchema = z
  .object({
    apiVersion: z.literal(PROFILE_API_VERSION),
    kind: z.literal("Profile"),
    metadata: z.object({
      name: packageName,
      version: profileVersion,
      category: z.string().min(1),
      description: z.string().optional(),
    }),
    spec: z.object({
      scenario: z.object({ type: z.string().min(1) }),
      engine: z.object({
        type: z.enum(["opentofu", "ansible", "script", "shell"]),
        workingDir: packagePath.optional(),
        playbook: packagePath.optional(),
        /** Ansible only: a packaged inventory file, or how to build one from inputs (schema-inventory.ts). */
        inventory: ansibleInventory.optional(),
      }),
      runtime: z.object({ os: z.array(z.string().min(1)).optional(), architectures: z.array(z.string().min(1)).optional() }).optional(),
      inputs: z.array(profileInput).optional(),
      execution: z
        .object({
          installScript: packagePath.optional(),
          planScript: packagePath.optional(),
          statusScript: packagePath.optional(),
          destroyScript: packagePath.optional(),
        })
        .optional(),
    }),
  })
  .superRefine(
    (m, ctx) => {
      // Runs even when other fields are invalid (`when`), so `m` may be malformed: read it defensively.
      const spec = (m as { spec?: unknown }).spec as { engine?: { type?: unknown }; execution?: { installScript?: unknown } } | undefined;
      const type = spec?.engine?.type;
      if ((type === "script" || type === "shell") && spec?.execution?.installScript === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["spec", "execution", "installScript"],
          message: `required field is missing (expected a script path: engine type ${type} runs spec.execution.installScript)`,
        });
      }
    },
    { when: () => true },
  )
  .superRefine((m, ctx) => {
    // Only on an otherwise valid manifest: the inventory is checked against the declared inputs.
    const inventory = m.spec.engine.inventory;
    if (inventory === undefined) return;
    const at = ["spec", "engine", "inventory"];
    if (m.spec.engine.type !== "ansible") {
      ctx.addIssue({ code: "custom", path: at, message: `only an ansible engine has an inventory (engine type is ${m.spec.engine.type})` });
      return;
    }
    if (typeof inventory === "string") return;
    const inputs = new Map((m.spec.inputs ?? []).map((i) => [i.name, i]));
    for (const ref of inventoryInputs(inventory)) {
      if (!inputs.has(ref.input)) {
        ctx.addIssue({
          code: "custom",
          path: [...at, ...ref.path],
          message: `${ref.input} is not declared in spec.inputs (the inventory is built from declared inputs only)`,
        });
      }
    }
    const key = inventory.sshKey === undefined ? undefined : inputs.get(inventory.sshKey.input);
    if (key !== undefined && !key.sensitive) {
      ctx.addIssue({
        code: "custom",
        path: [...at, "sshKey", "input"],
        message: `${key.name} holds a private key: declare it sensitive: true, so it is never stored or shown`,
      });
    }
    if (inventory.sshKey !== undefined && inventory.sshKeyPath !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [...at, "sshKeyPath"],
        message: "give sshKey (the key itself) or sshKeyPath (a path to it), not both",
      });
    }
  })
  .transform((m) => {
    const type = m.spec.engine.type === "shell" ? "script" : m.spec.engine.type;
    return {
      ...m,
      spec: {
        ...m.spec,
        engine: {
          ...m.spec.engine,
          type,
          workingDir: m.spec.engine.workingDir ?? "scenario",
          playbook: type === "ansible" ? (m.spec.engine.playbook ?? "playbook.yml") : m.spec.engine.playbook,
        },
        inputs: m.spec.inputs ?? [],
      },
    };
  });

/**
 * Input names must be unique. Checked on the raw document (by the parser) so
 * that duplicates are reported together with every other problem.
 */
export function duplicateInputNames(raw: unknown): { index: number; name: string; first: number }[] {
  const inputs = (raw as { spec?: { inputs?: unknown } } | null)?.spec?.inputs;
  if (!Array.isArray(inputs)) return [];
  const seen = new Map<string, number>();
  const out: { index: number; name: string; first: number }[] = [];
  inputs.forEach((input: unknown, index) => {
    const name = (input as { name?: unknown } | null)?.name;
    if (typeof name !== "string") return;
    const first = seen.get(name);
    if (first !== undefined) out.push({ index, name, first });
    else seen.set(name, index);
  });
  return out;
}

export type ProfileManifest = z.infer<typeof ProfileManifestSchema>;
export type ProfileManifestInput = z.input<typeof ProfileManifestSchema>;
export type ProfileInput = z.infer<typeof profileInput>;
export type { GeneratedInventory, InventoryHost } from "./schema-inventory.js";
export type EngineType = ProfileManifest["spec"]["engine"]["type"];
