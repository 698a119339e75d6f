/**
 * Checks that the floor answers what Basalt answers, so the comparison is fair: reads must be
 * identical JSON (same rows, same keys in the same order); a create must have the same status and
 * the same keys and value types (its id and dates differ by nature).
 */

export interface Sample {
  status: number;
  json: unknown;
}

/** `{a: 1, b: ["x"]}` → `{"a":"number","b":["string"]}`: keys in order, leaves as type names. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  }
  return value === null ? 'null' : typeof value;
}

function excerpt(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 160 ? text.slice(0, 160) + '…' : text;
}

export function compareSamples(basalt: Sample, floor: Sample, mode: 'exact' | 'shape'): string[] {
  const problems: string[] = [];
  if (basalt.status !== 200) problems.push(`Basalt answered the sample request with ${basalt.status}: ${excerpt(basalt.json)}`);
  if (floor.status !== basalt.status) problems.push(`floor answered ${floor.status}, Basalt ${basalt.status}`);
  const a = JSON.stringify(mode === 'exact' ? basalt.json : shapeOf(basalt.json));
  const b = JSON.stringify(mode === 'exact' ? floor.json : shapeOf(floor.json));
  if (a !== b) problems.push(`responses differ (${mode}): Basalt ${excerpt(JSON.parse(a))} vs floor ${excerpt(JSON.parse(b))}`);
  return problems;
}
