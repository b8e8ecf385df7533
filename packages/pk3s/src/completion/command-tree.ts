/**
 * The completion model of a commander program: every command path with its
 * subcommands, options (and what their values are) and positional arguments.
 * The bash and zsh scripts are generated from it, so they never drift from
 * the real command line.
 */
import type { Command } from "commander";

/** What to offer for an option value or a positional argument. */
export type ValueKind =
  | { kind: "file" }
  | { kind: "dir" }
  | { kind: "any" }
  | { kind: "choice"; values: string[] }
  | { kind: "package"; type: "addon" | "profile" };

export interface CompletionOption {
  /** `-f`, `--values` */
  names: string[];
  description: string;
  /** undefined for a boolean flag. */
  value: ValueKind | undefined;
}

export interface CompletionNode {
  /** Space-separated path below the program: "" for the program, "addon install". */
  path: string;
  description: string;
  subcommands: { name: string; description: string }[];
  options: CompletionOption[];
  /** One entry per declared positional argument (variadic and free-form ones are `any`). */
  positionals: ValueKind[];
}

/** Option values with a fixed set of answers that commander does not know as choices. */
const VALUE_CHOICES: Record<string, string[]> = { "--type": ["addon", "profile", "stack"] };

function valueFromPlaceholder(long: string | undefined, flags: string, choices: readonly string[] | undefined): ValueKind {
  if (choices !== undefined && choices.length > 0) return { kind: "choice", values: [...choices] };
  const fixed = long === undefined ? undefined : VALUE_CHOICES[long];
  if (fixed !== undefined) return { kind: "choice", values: fixed };
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(flags)?.[1] ?? "";
  if (placeholder === "dir") return { kind: "dir" };
  if (/^(file|path|url-or-path|[\w.-]+\.ya?ml)$/.test(placeholder)) return { kind: "file" };
  return { kind: "any" };
}

function positionalKind(path: string[], name: string, choices: readonly string[] | undefined): ValueKind {
  if (choices !== undefined && choices.length > 0) return { kind: "choice", values: [...choices] };
  const group = path[0];
  if (name === "spec" && (group === "addon" || group === "profile")) return { kind: "package", type: group };
  if (name === "dir") return { kind: "dir" };
  if (name === "url-or-path" || name === "file" || name === "stack") return { kind: "file" };
  return { kind: "any" };
}

function nodeOf(cmd: Command, path: string[]): CompletionNode {
  const options: CompletionOption[] = cmd.options.map((o) => ({
    names: [o.short, o.long].filter((n): n is string => n !== undefined),
    description: o.description,
    value: o.required || o.optional ? valueFromPlaceholder(o.long, o.flags, o.argChoices) : undefined,
  }));
  options.push({ names: ["-h", "--help"], description: "display help for command", value: undefined });
  return {
    path: path.join(" "),
    description: cmd.description(),
    subcommands: cmd.commands.map((c) => ({ name: c.name(), description: c.description() })),
    options,
    positionals: cmd.registeredArguments.map((a) => positionalKind(path, a.name(), a.argChoices)),
  };
}

/** Every command of the program, the program itself first (path ""). */
export function completionTree(program: Command): CompletionNode[] {
  const nodes: CompletionNode[] = [];
  const walk = (cmd: Command, path: string[]): void => {
    nodes.push(nodeOf(cmd, path));
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return nodes;
}

/** `file`, `dir`, `any`, `choice a b`, `package addon`: the shell-side spelling of a ValueKind. */
export function shellKind(v: ValueKind): string {
  if (v.kind === "choice") return `choice ${v.values.join(" ")}`;
  if (v.kind === "package") return `package ${v.type}`;
  return v.kind;
}
