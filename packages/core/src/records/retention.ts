/**
 * How many backups and earlier packages Core keeps per add-on:
 * `PK3S_KEEP_BACKUPS` (default 5) and `PK3S_KEEP_PACKAGES` (default 5, the
 * packages `addon rollback` can go back to, the installed one included).
 */
import { UsageError } from "@productive-k3s/pkg-format/errors";

function keep(envVar: string, fallback: number): number {
  const raw = process.env[envVar];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new UsageError(`${envVar}=${raw}: expected a whole number of at least 1`, { where: envVar });
  return Number(raw);
}

export const keptBackups = (): number => keep("PK3S_KEEP_BACKUPS", 5);
export const keptPackages = (): number => keep("PK3S_KEEP_PACKAGES", 5);
