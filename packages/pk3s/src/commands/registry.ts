/** `pk3s registry login|logout|set|list`: credentials and connection settings for OCI registries. */
import { emit } from "@productive-k3s/pkg-format/cli";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { Command } from "commander";
import { withJson, withRegistryOptions } from "./options.js";

export function registerRegistry(program: Command): void {
  const registry = program.command("registry").description("log in to OCI registries and set how to reach them");
  registry.addHelpText(
    "after",
    "\nExample:\n  pk3s registry login registry.example.com --username ci --password-stdin < token.txt\n  pk3s registry list\n",
  );

  withRegistryOptions(
    withJson(
      registry
        .command("login <host>")
        .description("check a user name and password with the registry and save them (0600, docker's config.json format)")
        .requiredOption("-u, --username <user>", "user name")
        .option("--password-stdin", "read the password (or token) from stdin: the only way to pass it"),
    ),
  )
    .addHelpText("after", "\nExample:\n  pk3s registry login 127.0.0.1:5000 --username ci --password-stdin < password.txt\n")
    .action(
      async (host: string, o: { json?: boolean; username: string; passwordStdin?: boolean; caFile?: string; plainHttp?: boolean }) => {
        if (o.passwordStdin !== true) {
          throw new UsageError("pass the password on stdin with --password-stdin", {
            hint: 'a password on the command line would land in the shell history and in ps: printf %s "$PASSWORD" | pk3s registry login HOST --username U --password-stdin',
          });
        }
        const { login, readPasswordFromStdin } = await import("../operations/registry-ops.js");
        const password = await readPasswordFromStdin();
        const r = await login({ registry: host, username: o.username, password, caFile: o.caFile, plainHttp: o.plainHttp });
        emit(o, { ok: true, ...r }, () =>
          terminalLine(
            `logged in to ${r.registry} as ${r.username}${r.check === "not-required" ? " (the registry asks for no credentials; saved anyway)" : ""}; saved in ${r.file}`,
          ),
        );
      },
    );

  withJson(registry.command("logout <host>").description("forget pk3s's saved login for a registry"))
    .addHelpText("after", "\nExample:\n  pk3s registry logout registry.example.com\n")
    .action(async (host: string, o: { json?: boolean }) => {
      const { logout } = await import("../operations/registry-ops.js");
      const r = await logout(host);
      emit(o, { ok: true, ...r }, () =>
        terminalLine(r.removed ? `logged out of ${r.registry}` : `no pk3s login for ${r.registry} in ${r.file}`),
      );
    });

  withJson(
    registry
      .command("set <host>")
      .description("how to reach a registry: a CA file to trust, plain HTTP (saved in registries.json)")
      .option("--ca-file <pem>", "CA certificate(s) that sign the registry's TLS certificate")
      .option("--plain-http", "talk plain HTTP to it (unencrypted: for a lab registry)")
      .option("--no-plain-http", "talk HTTPS to it again")
      .option("--reset", "forget its settings"),
  )
    .addHelpText("after", "\nExample:\n  pk3s registry set registry.internal:5000 --ca-file /etc/pki/internal-ca.pem\n")
    .action(async (host: string, o: { json?: boolean; caFile?: string; plainHttp?: boolean; reset?: boolean }, cmd: Command) => {
      const { setRegistry } = await import("../operations/registry-ops.js");
      // commander defaults a --no-x pair to true: only an explicit flag changes the setting.
      const plainHttp = cmd.getOptionValueSource("plainHttp") === "cli" ? o.plainHttp : undefined;
      const r = await setRegistry({ registry: host, caFile: o.caFile, plainHttp, reset: o.reset });
      emit(o, { ok: true, ...r }, () =>
        terminalLine(
          r.settings === null ? `forgot the settings of ${r.registry}` : `${r.registry}: ${JSON.stringify(r.settings)} (${r.file})`,
        ),
      );
    });

  withJson(registry.command("list").description("registries with a pk3s login or settings"))
    .addHelpText("after", "\nExample:\n  pk3s registry list --json\n")
    .action(async (o: { json?: boolean }) => {
      const { listRegistries } = await import("../operations/registry-ops.js");
      const r = await listRegistries();
      emit(o, { ok: true, ...r }, () =>
        r.registries.length === 0
          ? `no registry logins or settings (logins from ${r.dockerConfig} are used too)`
          : r.registries
              .map((v) =>
                terminalLine(
                  `${v.registry}  ${v.username === null ? "no login" : `user ${v.username}`}${v.caFile === null ? "" : `  ca ${v.caFile}`}${v.plainHttp ? "  plain-http" : ""}`,
                ),
              )
              .join("\n"),
      );
    });
}
