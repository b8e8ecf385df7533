#!/usr/bin/env node
import { runCli } from "@productive-k3s/pkg-format/cli";
import { buildProgram } from "../program.js";

await runCli(buildProgram());
