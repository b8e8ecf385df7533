/** A field path inside a document, and its display form (`spec.inputs[2].name`). */

export type FieldPath = readonly (string | number)[];

/** `spec.inputs[2].name` */
export function formatFieldPath(path: FieldPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}
