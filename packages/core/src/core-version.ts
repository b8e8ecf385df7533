import { packageVersion } from "@productive-k3s/pkg-format/version";

/** Core's own version (checked against `spec.compatibility.requires.core`). */
export const coreVersion: string = packageVersion(import.meta.url);
