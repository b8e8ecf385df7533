/** `pk3s stack show|plan|install|status|diff|uninstall NAME|FILE` and `pk3s lock [FILE]`. */
import { durationOption, emit, FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import type { Command } from "commander";
import type { CoreRunFlags } from "../delegate/core-run-flags.js";
import {
  addClusterFlags,
  type ClusterFlags,
  type FetchOptionValues,
  HOST_CHANGES_HELP,
  propagateExit,
  withFetchOptions,
} from "./options.js";

const REF = "<stack>";
const REF_HELP = "a stack file (stack.yaml, or the folder holding it) or [catalog/]name[@range] of a stack in a catalog";

const FROZEN_HELP = "install only what the lock file pins; exit 4 when it is missing or no longer matches the stack (CI)";

export function registerStack(program: Command): void {
  const stack = program
    .command("stack")
    .description("install, check and remove a stack: a declared group of add-ons, pinned by a lock file")
    .addHelpText(
      "after",
      "\nExample:\n  pk3s stack plan ./stack.yaml --kubeconfig ~/.kube/config\n  pk3s lock ./stack.yaml && pk3s stack install ./stack.yaml --frozen\n",
    );

  withFetchOptions(stack.command(`show ${REF}`).description("what a stack declares and, for a stack file, the state of its lock"))
    .addHelpText("after", `\n${REF}: ${REF_HELP}\n\nExample:\n  pk3s stack show base\n`)
    .action(async (ref: string, o: FetchOptionValues) => {
      const { showStack, renderStackShow } = await import("../operations/stack-show.js");
      const r = await showStack(ref, o);
      emit(o, { ok: true, stack: r }, () => renderStackShow(r));
    });

  addClusterFlags(
    withFetchOptions(
      stack
        .command(`plan ${REF}`)
        .description("per add-on: install, upgrade or unchanged (Core decides, in one dry run), and what is installed but not in the stack")
        .option("--frozen", FROZEN_HELP)
        .option("--prune", "show what stack install --prune would remove"),
    ),
  )
    .addHelpText("after", `\n${REF}: ${REF_HELP}\n\nExample:\n  pk3s stack plan ./stack.yaml --kubeconfig ~/.kube/config\n`)
    .action(async (ref: string, o: FetchOptionValues & ClusterFlags & { frozen?: boolean; prune?: boolean }) => {
      const { planStack, renderPlan } = await import("../operations/stack-plan.js");
      const r = await planStack({ ...o, ref, json: o.json === true });
      emit(o, r, () => renderPlan(r, o.prune === true));
    });

  addClusterFlags(
    withFetchOptions(
      stack
        .command(`install ${REF}`)
        .description("install the stack's add-ons in dependency order through productive-k3s-core in one run; stop at the first failure")
        .option("--frozen", FROZEN_HELP)
        .option("--prune", "then uninstall the add-ons this stack installed that it no longer lists")
        .option("--timeout <duration>", FLAG_HELP.timeout, durationOption)
        .option("--break-lock", FLAG_HELP.breakLock)
        .option("--allow-host-changes", HOST_CHANGES_HELP)
        .option("--no-backup", "Core does not back installed versions up before upgrading them"),
    ),
  )
    .addHelpText(
      "after",
      `\n${REF}: ${REF_HELP}\nA lock file beside a stack file (<file>.lock, from pk3s lock) is used when it matches the stack; a stale one is\nrefreshed and rewritten, unless --frozen.\n\nExample:\n  pk3s stack install ./stack.yaml --frozen --kubeconfig ~/.kube/config\n`,
    )
    .action(async (ref: string, o: FetchOptionValues & ClusterFlags & { frozen?: boolean; prune?: boolean } & CoreRunFlags) => {
      const { installStack, renderStackInstall } = await import("../operations/stack-install.js");
      const r = await installStack({ ...o, ref, json: o.json === true });
      emit(o, r, () => renderStackInstall(r));
      propagateExit(r.exitCode);
    });

  addClusterFlags(
    withFetchOptions(stack.command(`status ${REF}`).description("the cluster's install records against the stack (no download)")),
  )
    .addHelpText("after", `\n${REF}: ${REF_HELP}\n\nExample:\n  pk3s stack status ./stack.yaml\n`)
    .action(async (ref: string, o: FetchOptionValues & ClusterFlags) => {
      const { stackStatus, renderStackStatus } = await import("../operations/stack-status.js");
      const r = await stackStatus({ ...o, ref });
      emit(o, r, () => renderStackStatus(r));
    });

  addClusterFlags(
    withFetchOptions(
      stack
        .command(`diff ${REF}`)
        .description("drift between the lock (or the stack's packages) and the cluster's records: versions, packages, values")
        .option("--frozen", FROZEN_HELP),
    ),
  )
    .addHelpText(
      "after",
      `\n${REF}: ${REF_HELP}\nExit codes: 0 no drift, 1 drift (also a failing step: --json says drift: true|false), others as usual\n(3 not found, 4 a missing or stale lock with --frozen, 6 integrity). In CI, after \`pk3s lock --frozen\`:\n\nExample:\n  pk3s stack diff ./stack.yaml --frozen --kubeconfig ~/.kube/config\n`,
    )
    .action(async (ref: string, o: FetchOptionValues & ClusterFlags & { frozen?: boolean }) => {
      const { diffStack, renderStackDiff } = await import("../operations/stack-diff.js");
      const r = await diffStack({ ...o, ref, json: o.json === true });
      emit(o, r, () => renderStackDiff(r));
      propagateExit(r.exitCode);
    });

  addClusterFlags(
    withFetchOptions(
      stack
        .command(`uninstall ${REF}`)
        .description("remove the stack's add-ons, dependents first; dependencies it did not install are kept")
        .option("--timeout <duration>", FLAG_HELP.timeout, durationOption)
        .option("--break-lock", FLAG_HELP.breakLock)
        .option("--allow-host-changes", HOST_CHANGES_HELP)
        .option("--no-backup", "Core does not back the add-ons up before uninstalling them"),
    ),
  )
    .addHelpText("after", `\n${REF}: ${REF_HELP}\n\nExample:\n  pk3s stack uninstall ./stack.yaml --kubeconfig ~/.kube/config\n`)
    .action(async (ref: string, o: FetchOptionValues & ClusterFlags & CoreRunFlags) => {
      const { uninstallStack, renderStackUninstall } = await import("../operations/stack-uninstall.js");
      const r = await uninstallStack({ ...o, ref, json: o.json === true });
      emit(o, r, () => renderStackUninstall(r));
      propagateExit(r.exitCode);
    });
}

export function registerLock(program: Command): void {
  withFetchOptions(
    program
      .command("lock [file]")
      .description("write <file>.lock: every package of the stack, dependencies included, pinned by exact version and digest")
      .option("--update [name]", "resolve again: every add-on, or only NAME (the other pins are kept)")
      .option("--frozen", "write nothing: exit 4 when the lock is missing or no longer matches the stack (CI)"),
  )
    .addHelpText(
      "after",
      "\n[file]: the stack file (default ./stack.yaml); the lock is written beside it as <file>.lock\n\nExample:\n  pk3s lock ./stack.yaml\n  pk3s lock ./stack.yaml --update longhorn\n  pk3s lock --frozen   # in CI\n",
    )
    .action(async (file: string | undefined, o: FetchOptionValues & { update?: true | string; frozen?: boolean }) => {
      const { lockStack, renderLock } = await import("../operations/stack-lock-file.js");
      const r = await lockStack({ ...o, file });
      emit(o, r, () => renderLock(r));
    });
}
