/**
 * A collection's workflow (docs/workflows.md) as a diagram the dashboard draws in SVG: states in
 * columns by their distance from the initial state (breadth first along the transitions), the
 * transitions as arrows between them, named. Pure geometry, so it is tested without a browser;
 * the component only turns it into SVG attributes (the CSP allows no inline style).
 */

export interface WorkflowTransition {
  name: string;
  from: string[] | string;
  to: string;
  rule?: string | null;
  approvals?: number;
  after?: string | { field: string };
  fields?: string[];
  effects?: unknown[];
}

export interface Workflow {
  field: string;
  initial: string;
  transitions: WorkflowTransition[];
}

export interface DiagramNode { state: string; x: number; y: number; width: number; height: number; initial: boolean }
export interface DiagramEdge { from: string; to: string; label: string; path: string; labelX: number; labelY: number }
export interface Diagram { nodes: DiagramNode[]; edges: DiagramEdge[]; width: number; height: number }

const NODE_H = 40;
const COL_GAP = 110;
const ROW_GAP = 50;
const PAD = 30;

export function fromStates(t: WorkflowTransition): string[] {
  return Array.isArray(t.from) ? t.from : [t.from];
}

/**
 * The states in drawing order: the initial one, then those reached from it breadth first, then
 * the select field's other values (unreachable states are still states), each with its column.
 */
export function stateColumns(workflow: Workflow, values: readonly string[] = []): { state: string; column: number }[] {
  const out = new Map<string, number>([[workflow.initial, 0]]);
  const queue = [workflow.initial];
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const t of workflow.transitions) {
      if (fromStates(t).includes(state) && !out.has(t.to)) {
        out.set(t.to, out.get(state)! + 1);
        queue.push(t.to);
      }
    }
  }
  const last = Math.max(...out.values()) + 1;
  const rest = [...values, ...workflow.transitions.flatMap((t) => [...fromStates(t), t.to])];
  for (const state of rest) if (!out.has(state)) out.set(state, last);
  return [...out].map(([state, column]) => ({ state, column }));
}

/** One arrow per (from, to) pair, named by every transition that takes it. */
export function edgePairs(workflow: Workflow): { from: string; to: string; names: string[] }[] {
  const pairs = new Map<string, { from: string; to: string; names: string[] }>();
  for (const t of workflow.transitions) {
    for (const from of fromStates(t)) {
      const key = JSON.stringify([from, t.to]);
      const pair = pairs.get(key) ?? { from, to: t.to, names: [] };
      pair.names.push(t.name);
      pairs.set(key, pair);
    }
  }
  return [...pairs.values()];
}

/** Where the segment from a box's centre towards (tx, ty) leaves the box. */
function boxExit(n: DiagramNode, tx: number, ty: number): [number, number] {
  const cx = n.x + n.width / 2;
  const cy = n.y + n.height / 2;
  const dx = tx - cx;
  const dy = ty - cy;
  if (dx === 0 && dy === 0) return [cx, cy];
  const t = Math.min(dx === 0 ? Infinity : n.width / 2 / Math.abs(dx), dy === 0 ? Infinity : n.height / 2 / Math.abs(dy));
  return [cx + dx * t, cy + dy * t];
}

const r = (n: number) => Math.round(n * 10) / 10;

export function layoutWorkflow(workflow: Workflow, values: readonly string[] = []): Diagram {
  const columns = stateColumns(workflow, values);
  const widthOf = (s: string) => Math.max(90, s.length * 8 + 28);
  const colCount = Math.max(...columns.map((c) => c.column)) + 1;
  const colWidth = Array.from({ length: colCount }, (_, i) => Math.max(0, ...columns.filter((c) => c.column === i).map((c) => widthOf(c.state))));
  const colX: number[] = [];
  let x = PAD;
  for (const w of colWidth) {
    colX.push(x);
    x += w + COL_GAP;
  }
  const rowsIn = new Map<number, number>();
  const nodes: DiagramNode[] = columns.map(({ state, column }) => {
    const row = rowsIn.get(column) ?? 0;
    rowsIn.set(column, row + 1);
    const width = widthOf(state);
    return { state, x: colX[column]! + (colWidth[column]! - width) / 2, y: PAD + 20 + row * (NODE_H + ROW_GAP), width, height: NODE_H, initial: state === workflow.initial };
  });
  const byState = new Map(nodes.map((n) => [n.state, n]));
  const pairs = edgePairs(workflow);
  const hasPair = new Set(pairs.map((p) => JSON.stringify([p.from, p.to])));

  const edges: DiagramEdge[] = pairs.map(({ from, to, names }) => {
    const a = byState.get(from)!;
    const b = byState.get(to)!;
    const label = names.join(', ');
    if (from === to) {
      // A loop over the box's top.
      const cx = a.x + a.width / 2;
      const path = `M ${r(cx - 12)} ${r(a.y)} C ${r(cx - 30)} ${r(a.y - 40)}, ${r(cx + 30)} ${r(a.y - 40)}, ${r(cx + 12)} ${r(a.y)}`;
      return { from, to, label, path, labelX: r(cx), labelY: r(a.y - 36) };
    }
    const ax = a.x + a.width / 2, ay = a.y + a.height / 2;
    const bx = b.x + b.width / 2, by = b.y + b.height / 2;
    // Arrows both ways, backwards, or within a column bend (to the left of their direction), so
    // they are not drawn over each other or through the boxes between.
    const bend = hasPair.has(JSON.stringify([to, from])) || b.x <= a.x ? 36 : 0;
    const dx = bx - ax, dy = by - ay;
    const len = Math.hypot(dx, dy);
    const cxp = (ax + bx) / 2 + (dy / len) * bend;
    const cyp = (ay + by) / 2 - (dx / len) * bend;
    const [sx, sy] = boxExit(a, cxp, cyp);
    const [ex, ey] = boxExit(b, cxp, cyp);
    const path = `M ${r(sx)} ${r(sy)} Q ${r(cxp)} ${r(cyp)} ${r(ex)} ${r(ey)}`;
    // The curve's midpoint (t = ½ of the quadratic), a little above it.
    return { from, to, label, path, labelX: r(0.25 * sx + 0.5 * cxp + 0.25 * ex), labelY: r(0.25 * sy + 0.5 * cyp + 0.25 * ey - 6) };
  });

  const width = Math.max(...nodes.map((n) => n.x + n.width)) + PAD;
  const height = Math.max(...nodes.map((n) => n.y + n.height)) + PAD;
  return { nodes, edges, width: r(width), height: r(height) };
}

/** Who may take a transition, in words (`rule` absent: the update rule; "": anyone). */
export function ruleText(rule: string | null | undefined): string {
  if (rule === undefined || rule === null) return 'as the update rule';
  if (rule === '') return 'anyone';
  return rule;
}

export function afterText(after: WorkflowTransition['after']): string {
  if (after === undefined) return '';
  return typeof after === 'string' ? `after ${after}` : `at ${after.field}`;
}
