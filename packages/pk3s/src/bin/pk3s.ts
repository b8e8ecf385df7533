#!/usr/bin/env -S node --
// `node --`: Node 20 scans the whole command line for its own --env-file and exits 9 when the file is missing;
// after `--` it leaves our `--env-file` alone. (env -S: GNU coreutils >= 8.30, macOS, FreeBSD.)
import { runCli } from "@productive-k3s/pkg-format/cli";
import { buildProgram } from "../program.js";

// Only the commands this command line names are built (registerCommands).
await runCli(buildProgram(process.argv.slice(2)));
