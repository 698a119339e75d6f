/** JSON paths for the filter language, from validated segments (`\w+` names or array indexes). */

/** SQLite / MySQL path text: `$.a.b[0]`; keys are quoted so any \w name is safe. */
export function jsonPathText(path: (string | number)[]): string {
  let out = '$';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += '."' + seg.replaceAll('"', '') + '"';
  }
  return out;
}

/** PostgreSQL `#>` path as a text[] literal value: `{a,b,0}`. */
export function jsonPathArray(path: (string | number)[]): string[] {
  return path.map((seg) => String(seg));
}
