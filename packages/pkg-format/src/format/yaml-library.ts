/**
 * The `yaml` library's parse and stringify, for code that loads them only when it needs them
 * (`await import(".../yaml-library")`): the fallbacks of the line reader and of the block writer. A module of
 * ours, not `await import("yaml")`: the library is CommonJS, and a bundle's chunk of a CommonJS module exports
 * only `default`, so named imports from it would be undefined in the built binaries.
 */
import { parse, stringify } from "yaml";

export const parseYamlLibrary = parse;
export const stringifyYamlLibrary = stringify;
