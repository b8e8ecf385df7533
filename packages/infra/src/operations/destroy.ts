/**
 * `profile destroy`: tear down what install created, from the stored package
 * (or `--tgz`), with the stored non-sensitive inputs (sensitive ones must be
 * passed again: they were never stored). The instance is marked destroyed and
 * its state kept until `--purge`.
 */
import { access } from "node:fs/promises";
import { log, warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, UsageError } from "@productive-k3s/pkg-format/errors";
import { engineFor } from "../engines/engine-for.js";
import { runScript } from "../engines/script.js";
import { openProfile } from "../profile/opened-profile.js";
import {
  checkedInstanceName,
  instancePaths,
  instanceWhere,
  lockInstanceState,
  packageCopyFile,
  purgeInstance,
  readInstance,
  writeSensitiveOutputs,
} from "../state/instance-store.js";
import { approveOrThrow, assertApprovalPossible } from "./confirm.js";
import { withInstanceRun } from "./instance-run.js";
import { printWarnings } from "./prepare.js";
import { assertNoProblems, resolveInputs } from "./resolve-inputs.js";

export interface DestroyOptions {
  instance: string;
  tgz?: string | undefined;
  envFiles?: string[];
  sets?: string[];
  autoApprove?: boolean;
  purge?: boolean;
  breakLock?: boolean;
  echo?: boolean;
}

export interface DestroyResult {
  instance: string;
  profile: string;
  status: "destroyed" | "purged";
  runId?: string;
  purged: boolean;
  note?: string;
}

async function purge(instance: string, breakLock: boolean): Promise<void> {
  const paths = instancePaths(instance);
  const lock = await lockInstanceState(paths, { command: "profile destroy --purge", breakLock });
  try {
    await purgeInstance(paths);
  } finally {
    // The local lock file went with the directory; a PostgreSQL lock is released here.
    await lock.release();
  }
}

export async function destroyProfile(options: DestroyOptions): Promise<DestroyResult> {
  const instance = checkedInstanceName(options.instance);
  const paths = instancePaths(instance);
  const record = await readInstance(paths);
  if (record === undefined) {
    throw new NotFoundError(`no instance named ${instance}`, {
      where: await instanceWhere(paths),
      hint: "list instances with: productive-k3s-infra profile list",
    });
  }
  const autoApprove = options.autoApprove === true;
  if (record.status === "destroyed") {
    if (options.purge === true) {
      assertApprovalPossible(autoApprove, `purge of instance ${instance}`);
      await approveOrThrow(autoApprove, `Remove all state of instance ${instance}?`, "purge");
      await purge(instance, options.breakLock === true);
      return {
        instance,
        profile: record.profile.name,
        status: "purged",
        purged: true,
        note: "the instance was already destroyed; its state was removed",
      };
    }
    return {
      instance,
      profile: record.profile.name,
      status: "destroyed",
      purged: false,
      note: "the instance is already destroyed (use --purge to remove its state)",
    };
  }
  assertApprovalPossible(autoApprove, `destroy of instance ${instance}`);
  const tgz = options.tgz ?? (await packageCopyFile(paths));
  const found =
    tgz !== undefined &&
    (await access(tgz).then(
      () => true,
      () => false,
    ));
  if (tgz === undefined || !found) {
    throw new NotFoundError(`the package of instance ${instance} is not in its state${tgz === undefined ? "" : ` (${tgz})`}`, {
      where: await instanceWhere(paths),
      hint: "pass the package with --tgz",
    });
  }
  const profile = await openProfile(tgz);
  try {
    const m = profile.manifest;
    if (m.metadata.name !== record.profile.name) {
      throw new UsageError(`${tgz} is profile ${m.metadata.name}, but instance ${instance} runs ${record.profile.name}`, {
        hint: "pass the instance's own package, or omit --tgz",
      });
    }
    const engine = engineFor(m);
    const resolved = await resolveInputs(
      profile,
      { stored: record.inputs, envFiles: options.envFiles ?? [], sets: options.sets ?? [] },
      engine,
    );
    printWarnings(resolved.warnings);
    const notGiven = record.sensitiveInputs.filter((n) => (resolved.merged.values[n] ?? "") === "");
    if (notGiven.length > 0) {
      warn(
        `sensitive and undeclared inputs are never stored: pass ${notGiven.join(", ")} again (--env-file or --set) if the profile needs them`,
      );
    }
    assertNoProblems(profile, resolved);
    engine.tool();
    const out = await withInstanceRun(
      { instance, action: "destroy", profile, resolved, breakLock: options.breakLock === true, echo: options.echo !== false },
      async ({ run, record: rec }) => {
        await approveOrThrow(autoApprove, `Destroy instance ${instance}?`, "destroy");
        const destroyScript = m.spec.execution?.destroyScript;
        if (destroyScript !== undefined) await runScript(run, destroyScript, "destroy-script", run.storedOutputs);
        const { note } = await engine.destroy(run, { destroyScriptRan: destroyScript !== undefined });
        if (note !== undefined) warn(note);
        rec.outputs = {};
        rec.sensitiveOutputs = [];
        await writeSensitiveOutputs(run.paths, {});
        rec.plan = undefined;
        rec.destroyedAt = new Date().toISOString();
        return { status: "destroyed", result: note === undefined ? {} : { note } };
      },
    );
    if (options.purge === true) {
      await purge(instance, false);
      log(`removed the state of instance ${instance}`);
    }
    return {
      instance,
      profile: m.metadata.name,
      runId: out.runId,
      status: options.purge === true ? "purged" : "destroyed",
      purged: options.purge === true,
      ...(out.note === undefined ? {} : { note: out.note }),
    };
  } finally {
    await profile.cleanup();
  }
}
