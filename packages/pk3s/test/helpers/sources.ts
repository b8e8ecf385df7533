/** Minimal add-on source folders for packing with the real packer. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export async function writeAddonSource(
  dir: string,
  name: string,
  version: string,
  deps: string[] = [],
  extraSpec: string[] = [],
): Promise<string> {
  const src = join(dir, `${name}-${version}`);
  mkdirSync(join(src, "scripts"), { recursive: true });
  writeFileSync(join(src, "scripts", "install.sh"), "#!/bin/sh\necho install\n", { mode: 0o755 });
  writeFileSync(
    join(src, "addon.yaml"),
    [
      "apiVersion: addons.productive-k3s.io/v1",
      "kind: Addon",
      "metadata:",
      `  name: ${name}`,
      `  version: ${version}`,
      "  category: test",
      `  description: ${name} for index tests`,
      "spec:",
      "  type: shell",
      "  install:",
      "    script: scripts/install.sh",
      ...(deps.length > 0 ? ["  dependencies:", ...deps.map((d) => `    - ${d}`)] : []),
      ...extraSpec,
      "",
    ].join("\n"),
  );
  return src;
}
