// Automatic layout of a workflow with dagre: top to bottom, the trigger on
// top, each fanout ("For each") laid out on its own and drawn as a group
// big enough to hold its body. Positions are React Flow's: the top-left
// corner of a node, relative to its group for steps inside a fanout.
//
// Nothing here writes the workflow except applyAutoLayout: the positions of
// steps without a stored `position` live outside the JSON, so a workflow
// saved without positions stays without them.
import dagre from '@dagrejs/dagre';
import type { Edge, Position, Step, Workflow } from '../api/types';
import type { Catalog } from '../catalog';
import { TRIGGER_ID, branchesOf } from '../model';

/** The size a step or trigger node is drawn at (CSS keeps it). */
export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 64;
/** The extra height of a node with labelled branch handles (condition, switch). */
export const BRANCH_ROW = 18;
/** A fanout group's inner margins: the header on top, padding elsewhere. */
export const GROUP_HEADER = 64;
export const GROUP_PADDING = 24;
export const GROUP_MIN_WIDTH = NODE_WIDTH + 2 * GROUP_PADDING;
export const GROUP_MIN_HEIGHT = GROUP_HEADER + NODE_HEIGHT + 2 * GROUP_PADDING;
/** The gap between the trigger and the first steps. */
const RANK_SEP = 60;
const NODE_SEP = 40;

export interface Size {
  width: number;
  height: number;
}

export interface Layout {
  /** Step id (and TRIGGER_ID) -> top-left corner, relative to the group for body steps. */
  positions: Record<string, Position>;
  /** Fanout step id -> the size of its group. */
  groupSizes: Record<string, Size>;
}

/**
 * Lays out every step of wf, ignoring the positions stored in it. With
 * fitStored, a fanout group is made big enough for the stored positions of
 * its body too (so the steps around it make room for what the canvas
 * draws); without, the layout is the pure one applyAutoLayout writes.
 */
export function layoutGraph(wf: Workflow, catalog: Catalog, fitStored = true): Layout {
  const out: Layout = { positions: {}, groupSizes: {} };
  layoutScope(wf.steps ?? [], wf.edges ?? [], true, catalog, out, fitStored);
  return out;
}

/** The auto-layout positions of every node (TRIGGER_ID included). */
export function autoLayout(wf: Workflow, catalog: Catalog): Record<string, Position> {
  return layoutGraph(wf, catalog).positions;
}

/** The auto-layout size of every fanout group. */
export function groupSizes(wf: Workflow, catalog: Catalog): Record<string, Size> {
  return layoutGraph(wf, catalog).groupSizes;
}

/**
 * The positions to draw the nodes that have no stored position at: what
 * toGraph takes as opts.positions. Steps with a stored position are left
 * out (the stored one wins); the trigger is always in.
 */
export function layoutPositions(wf: Workflow, catalog: Catalog): Record<string, Position> {
  const auto = autoLayout(wf, catalog);
  const stored = new Set<string>();
  const visit = (list: Step[] | undefined) =>
    (list ?? []).forEach((s) => {
      if (isPosition(s.position)) stored.add(s.id);
      visit(s.steps);
    });
  visit(wf.steps);
  const out: Record<string, Position> = {};
  for (const [id, p] of Object.entries(auto)) if (!stored.has(id)) out[id] = p;
  return out;
}

/**
 * The "Auto-layout" button: writes the auto-layout position of every step
 * (fanout bodies included, relative to their group). The trigger keeps no
 * position in the JSON (the server does not take one); the canvas places
 * it above the first steps.
 */
export function applyAutoLayout(wf: Workflow, catalog: Catalog): Workflow {
  const { positions } = layoutGraph(wf, catalog, false);
  const place = (list: Step[]): Step[] =>
    list.map((s) => {
      const p = positions[s.id];
      let next: Step = s;
      if (p && !(s.position && s.position.x === p.x && s.position.y === p.y)) next = { ...next, position: { x: p.x, y: p.y } };
      if (s.steps) {
        const inner = place(s.steps);
        if (inner.some((c, i) => c !== s.steps![i])) next = { ...next, steps: inner };
      }
      return next;
    });
  const steps = place(wf.steps ?? []);
  return steps.some((s, i) => s !== wf.steps[i]) ? { ...wf, steps } : wf;
}

export function isPosition(p: unknown): p is Position {
  return !!p && typeof p === 'object' && Number.isFinite((p as Position).x) && Number.isFinite((p as Position).y);
}

/**
 * Lays out one scope (the top level or a fanout body), its fanouts first so
 * their groups' sizes are known. Returns the scope's bounding size; body
 * positions are shifted so the scope starts at (0, 0).
 */
function layoutScope(steps: Step[], edges: Edge[], withTrigger: boolean, catalog: Catalog, out: Layout, fitStored: boolean): Size {
  const sizes = new Map<string, Size>();
  for (const s of steps) {
    if (isContainer(s, catalog)) {
      const inner = layoutScope(s.steps ?? [], s.edges ?? [], false, catalog, out, fitStored);
      const size = {
        width: Math.max(GROUP_MIN_WIDTH, inner.width + 2 * GROUP_PADDING),
        height: Math.max(GROUP_MIN_HEIGHT, inner.height + GROUP_HEADER + GROUP_PADDING),
      };
      // The body was laid out from (0, 0): move it inside the group.
      for (const c of s.steps ?? []) {
        const p = out.positions[c.id];
        if (p) out.positions[c.id] = { x: p.x + GROUP_PADDING, y: p.y + GROUP_HEADER };
        if (fitStored && isPosition(c.position)) {
          const cs = out.groupSizes[c.id] ?? stepNodeSize(c, catalog);
          size.width = Math.max(size.width, c.position.x + cs.width + GROUP_PADDING);
          size.height = Math.max(size.height, c.position.y + cs.height + GROUP_PADDING);
        }
      }
      out.groupSizes[s.id] = size;
      sizes.set(s.id, size);
    } else sizes.set(s.id, stepNodeSize(s, catalog));
  }
  if (steps.length === 0 && !withTrigger) return { width: 0, height: 0 };

  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: NODE_SEP, ranksep: RANK_SEP, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  if (withTrigger) g.setNode(TRIGGER_ID, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const s of steps) g.setNode(s.id, { ...sizes.get(s.id)! });

  const ids = new Set(steps.map((s) => s.id));
  const hasIncoming = new Set<string>();
  const byId = new Map(steps.map((s) => [s.id, s]));
  // Edges in branch order so a condition's "true" side lands left of "false".
  const ordered = edges
    .map((e, i) => ({ e, i, rank: branchRank(byId.get(e.from), e.branch, catalog) }))
    .sort((a, b) => (a.e.from === b.e.from ? a.rank - b.rank || a.i - b.i : a.i - b.i));
  ordered.forEach(({ e }, n) => {
    if (!ids.has(e.from) || !ids.has(e.to) || e.from === e.to) return;
    hasIncoming.add(e.to);
    g.setEdge(e.from, e.to, {}, `e${n}`);
  });
  if (withTrigger) for (const s of steps) if (!hasIncoming.has(s.id)) g.setEdge(TRIGGER_ID, s.id, {}, `t_${s.id}`);

  // Keep each branching step's targets left to right in branch order.
  const constraints: { left: string; right: string }[] = [];
  const targetsOf = new Map<string, string[]>();
  for (const { e } of ordered) {
    if (e.branch === undefined || !ids.has(e.to) || e.from === e.to) continue;
    const list = targetsOf.get(e.from) ?? [];
    if (!list.includes(e.to)) list.push(e.to);
    targetsOf.set(e.from, list);
  }
  for (const list of targetsOf.values()) {
    // every pair: targets may sit on different ranks, where dagre ignores the constraint
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) constraints.push({ left: list[i], right: list[j] });
  }
  try {
    dagre.layout(g, constraints.length ? { constraints } : undefined);
  } catch {
    dagre.layout(g); // conflicting order constraints: lay out without them
  }

  const placed: [string, Position, Size][] = [];
  for (const id of g.nodes()) {
    const n = g.node(id) as { x: number; y: number; width: number; height: number } | undefined;
    if (!n) continue;
    placed.push([id, { x: n.x - n.width / 2, y: n.y - n.height / 2 }, { width: n.width, height: n.height }]);
  }
  const minX = Math.min(...placed.map(([, p]) => p.x));
  const minY = Math.min(...placed.map(([, p]) => p.y));
  let maxX = 0;
  let maxY = 0;
  for (const [id, p, size] of placed) {
    const x = Math.round(p.x - minX);
    const y = Math.round(p.y - minY);
    out.positions[id] = { x, y };
    maxX = Math.max(maxX, x + size.width);
    maxY = Math.max(maxY, y + size.height);
  }
  return { width: maxX, height: maxY };
}

/** The size a (non-fanout) step node is drawn at. */
export function stepNodeSize(step: Step, catalog: Catalog): Size {
  const t = catalog.stepType(step.type);
  const branching = (t?.branches?.length ?? 0) > 0 || !!t?.case_branches;
  return { width: NODE_WIDTH, height: branching ? NODE_HEIGHT + BRANCH_ROW : NODE_HEIGHT };
}

function isContainer(s: Step, catalog: Catalog): boolean {
  return catalog.stepType(s.type)?.container === true || Array.isArray(s.steps);
}

function branchRank(step: Step | undefined, branch: string | undefined, catalog: Catalog): number {
  if (!step || branch === undefined) return 0;
  const t = catalog.stepType(step.type);
  const i = branchesOf(step, t?.branches, t?.case_branches).indexOf(branch);
  return i < 0 ? 1000 : i;
}
