/** Types of scripts/real-tools.mjs (the tests import it through fixtures/real-tools.ts). */
export interface RealTools {
  helm: string;
  kubectl: string;
  helmVersion: string;
  kubectlVersion: string;
  dir: string;
}
export function ensureRealTools(): Promise<RealTools | { skip: string }>;
