/**
 * Block YAML for plain data (what a catalog index is: mappings, sequences, strings, integers, booleans, null),
 * written directly: the `yaml` library's document builder and stringifier took 60 ms of a 200-package
 * `pk3s catalog index` on a cold process (--cpu-prof), more than every package's digest together.
 *
 * The layout is the library's with `lineWidth: 0` (two-space indentation, sequences indented under their key,
 * `- key: value` items, `[]` and `{}` when empty, map keys in insertion order, undefined values left out), so an
 * index of the usual content is byte for byte what the library writes (tested). A string is written plain only
 * when yaml-lines.ts's `plainReadsBack` says it reads back as itself; any other string is double-quoted with
 * JSON's escapes (also escaping what YAML does not allow raw: DEL, C1 controls, U+2028/2029, U+FEFF), which both
 * the library and the line reader read back exactly. Where the library would choose another style (a block
 * scalar for a multi-line string, say) the bytes differ and the value does not. Anything outside this data
 * model (floats, nested sequences, class instances, cycles) makes blockYaml return undefined: the caller then
 * uses the library.
 */
import { isMapping, MAX_IMPLICIT_KEY, plainKeyReadsBack, plainReadsBack } from "./yaml-lines.js";

class OutsideSubset extends Error {}

const NOT_RAW = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;
const hex4 = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

function quoted(text: string): string {
  return JSON.stringify(text).replace(NOT_RAW, hex4);
}

function scalar(value: unknown): string {
  if (typeof value === "string") return plainReadsBack(value) ? value : quoted(value);
  if (typeof value === "number" && Number.isSafeInteger(value) && !Object.is(value, -0)) return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null) return "null";
  throw new OutsideSubset();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isMapping(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A mapping with nothing to write (undefined values are left out): `{}`. */
const writesNothing = (obj: Record<string, unknown>): boolean => Object.values(obj).every((x) => x === undefined);

/** A key as written; over YAML's 1,024-character limit on an implicit key, the library's (an explicit `? key`). */
function key(k: string): string {
  const text = plainKeyReadsBack(k) ? k : quoted(k);
  if (text.length > MAX_IMPLICIT_KEY) throw new OutsideSubset();
  return text;
}

/** The lines of a mapping whose keys start at `indent` (the first one may follow a `- ` already written). */
function mapping(obj: Record<string, unknown>, indent: string, out: string[], first: string, seen: Set<object>): void {
  if (seen.has(obj)) throw new OutsideSubset(); // a cycle
  seen.add(obj);
  let lead = first;
  let written = 0;
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    const head = `${lead}${key(k)}:`;
    lead = indent;
    written++;
    if (Array.isArray(v)) {
      if (v.length === 0) out.push(`${head} []`);
      else {
        out.push(head);
        sequence(v, `${indent}  `, out, seen);
      }
    } else if (isPlainObject(v)) {
      if (writesNothing(v)) out.push(`${head} {}`);
      else {
        out.push(head);
        mapping(v, `${indent}  `, out, `${indent}  `, seen);
      }
    } else out.push(`${head} ${scalar(v)}`);
  }
  if (written === 0) throw new OutsideSubset(); // the callers write {} for an empty mapping
  seen.delete(obj);
}

function sequence(items: readonly unknown[], indent: string, out: string[], seen: Set<object>): void {
  for (const item of items) {
    if (Array.isArray(item)) {
      if (item.length > 0) throw new OutsideSubset(); // `- - x`: the library's business
      out.push(`${indent}- []`);
    } else if (isPlainObject(item)) {
      if (writesNothing(item)) out.push(`${indent}- {}`);
      else mapping(item, `${indent}  `, out, `${indent}- `, seen);
    } else out.push(`${indent}- ${scalar(item === undefined ? null : item)}`);
  }
}

/** `doc` (a mapping) as block YAML, or undefined when it holds something outside the data model above. */
export function blockYaml(doc: Record<string, unknown>): string | undefined {
  if (!isPlainObject(doc) || writesNothing(doc)) return undefined;
  const out: string[] = [];
  try {
    mapping(doc, "", out, "", new Set());
  } catch (err) {
    if (err instanceof OutsideSubset) return undefined;
    throw err;
  }
  return `${out.join("\n")}\n`;
}
