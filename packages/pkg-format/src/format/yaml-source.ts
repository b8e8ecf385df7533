/**
 * YAML parsing that keeps source positions, so every problem found later
 * (by zod, by path checks) can name `file:line:column`.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { Problem } from "../errors.js";
import type { FieldPath } from "./field-path.js";
import { parseSimpleYaml, UNSUPPORTED } from "./yaml-lines.js";

export { type FieldPath, formatFieldPath } from "./field-path.js";

export interface Location {
  line: number;
  column: number;
}

export interface YamlSource {
  /** The plain JS value of the document (undefined for an empty document). */
  value: unknown;
  /** Syntax problems (duplicate keys, bad indentation, multiple documents...). */
  problems: Problem[];
  /** Best location for a field path: the value node, else its key, else the nearest existing ancestor. */
  locate(path: FieldPath): Location | undefined;
  /** Location of the key of the last path segment (for unknown fields). */
  locateKey(path: FieldPath): Location | undefined;
}

/**
 * The document's value, with positions for problems. Text in yaml-lines.ts's subset (block mappings and
 * sequences of one-line scalars: every manifest a packer or a person usually writes) is read by that line
 * parser, which returns the `yaml` library's value or declines; the library's document, for positions only,
 * is then built on the first `locate`, i.e. only when there is a problem to place. A manifest without
 * problems costs no `parseDocument` (~1-3 ms each while the library is cold: 51 manifests in a dry run with
 * dependencies, read by pk3s and again by Core). Anything else, syntax errors included, goes to the library.
 */
export function parseYamlSource(text: string, file: string): YamlSource {
  const simple = parseSimpleYaml(text.split("\n"));
  // null: an empty document, whose value the library decides (as it does for any text the subset declines).
  if (simple === UNSUPPORTED || simple === null) return parseWithLibrary(text, file);
  let full: YamlSource | undefined;
  const positions = (): YamlSource => {
    full ??= parseWithLibrary(text, file);
    return full;
  };
  return { value: simple, problems: [], locate: (path) => positions().locate(path), locateKey: (path) => positions().locateKey(path) };
}

function parseWithLibrary(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, strict: true, prettyErrors: false, keepSourceTokens: false });
  const problems: Problem[] = [];
  const at = (offset: number): Location => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  for (const err of doc.errors) {
    const loc = at(err.pos[0]);
    problems.push({ file, ...loc, message: `invalid YAML: ${firstLine(err.message)}`, severity: "error" });
  }
  for (const w of doc.warnings) {
    const loc = at(w.pos[0]);
    problems.push({ file, ...loc, message: `YAML: ${firstLine(w.message)}`, severity: "warning" });
  }
  let value: unknown;
  if (!problems.some((p) => p.severity === "error")) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // e.g. alias expansion over maxAliasCount ("billion laughs")
      problems.push({ file, line: 1, column: 1, message: `invalid YAML: ${firstLine((err as Error).message)}`, severity: "error" });
    }
  }

  const findPair = (parent: unknown, key: string | number): { key?: Node; value?: Node } | undefined => {
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (isPair(item)) {
          const k = isScalar(item.key) ? item.key.value : item.key;
          if (String(k) === String(key)) return { key: item.key as Node, value: (item.value ?? undefined) as Node | undefined };
        }
      }
      return undefined;
    }
    if (isSeq(parent) && typeof key === "number") {
      const item = parent.items[key];
      return item === undefined ? undefined : { value: item as Node };
    }
    return undefined;
  };

  const walk = (path: FieldPath, wantKey: boolean): Location | undefined => {
    let node: unknown = doc.contents;
    let last: Location | undefined = rangeStart(node);
    // For a missing field, point at the key of its parent mapping ("metadata:"), not at the mapping's first child.
    let lastKey: Location | undefined;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i] as string | number;
      const pair = findPair(node, seg);
      if (pair === undefined) return lastKey ?? last ?? { line: 1, column: 1 };
      const isLast = i === path.length - 1;
      if (isLast && wantKey && pair.key !== undefined) return rangeStart(pair.key) ?? last;
      node = pair.value;
      lastKey = rangeStart(pair.key) ?? rangeStart(pair.value);
      last = rangeStart(pair.value) ?? rangeStart(pair.key) ?? last;
    }
    return last;
  };
  function rangeStart(node: unknown): Location | undefined {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range === undefined ? undefined : at(range[0]);
  }

  return {
    value,
    problems,
    locate: (path) => walk(path, false),
    locateKey: (path) => walk(path, true),
  };
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
