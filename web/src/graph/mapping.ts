// Workflow JSON <-> React Flow graph, and the canvas's edits. Pure
// functions, no React: every edit takes a workflow and returns a new one
// that keeps every field it does not touch (and the order of keys), and
// returns the very same object when nothing changes.
//
// The graph:
//  - one trigger node (id TRIGGER_ID, type 'trigger'), drawn above the steps
//    it starts; its position is never written to the JSON (the server takes
//    none), so it is derived from the steps' positions;
//  - one node per step (type 'step'); a fanout is a 'group' node holding
//    its body's nodes (parentId + extent 'parent', positions relative to
//    the group);
//  - one edge per workflow edge, plus dashed "implicit" edges from the
//    trigger to each top-level step with no incoming edge (those start when
//    the trigger fires). Inside a fanout no implicit edges are drawn: the
//    group's header says the body runs once per item, and its steps with no
//    incoming edge start each time.
import type { Edge as RFEdge, Node as RFNode, NodeChange } from '@xyflow/react';
import type { Edge, Position, Problem, Step, StepStatus, StepType, Trigger, TriggerType, Workflow } from '../api/types';
import type { Catalog } from '../catalog';
import { TRIGGER_ID, allStepIds, branchesOf, findStep, problemsByNode, referenceEnd, scopeOf, uniqueStepId, updateStep, walkSteps } from '../model';
import {
  GROUP_HEADER,
  GROUP_MIN_HEIGHT,
  GROUP_MIN_WIDTH,
  GROUP_PADDING,
  NODE_HEIGHT,
  autoLayout,
  isPosition,
  stepNodeSize,
  type Size,
} from './layout';

// ---------------------------------------------------------------- graph

/** The drag-and-drop data type the palette sets; its value is the step type. */
export const STEP_DND_TYPE = 'application/leverflow-step';

/** The handle id of a step's single "next" source handle (and the trigger's). */
export const NEXT_HANDLE = 'next';
/** The handle id of a step's target handle. */
export const IN_HANDLE = 'in';

export type StepNodeData = {
  step: Step;
  stepType?: StepType;
  title: string;
  /** "Lever", "Logic", "HTTP", "Timing", ... ('' when the type is unknown). */
  category: string;
  /** One labelled source handle each: the type's branches, then any other branch an edge uses. */
  branches: string[];
  /** Branches edges use that the step does not offer (drawn as warnings). */
  unknownBranches: string[];
  /** Whether the node has the plain "next" source handle. */
  hasNext: boolean;
  container: boolean;
  status?: StepStatus;
  problems: string[];
};

export type TriggerNodeData = {
  trigger: Trigger;
  triggerType?: TriggerType;
  title: string;
  category: 'trigger';
  status?: StepStatus;
  problems: string[];
};

export type StepNode = RFNode<StepNodeData, 'step' | 'group'>;
export type TriggerNode = RFNode<TriggerNodeData, 'trigger'>;
export type FlowNode = StepNode | TriggerNode;

export type FlowEdgeData = {
  branch?: string;
  /** A trigger -> start step edge: drawn dashed, not in the JSON. */
  implicit?: boolean;
};
export type FlowEdge = RFEdge<FlowEdgeData>;

export interface ToGraphOptions {
  /** Run overlay: step id -> status. */
  statuses?: Record<string, StepStatus>;
  /** Step id or TRIGGER_ID -> problem messages. */
  problems?: Record<string, string[]>;
  /** Positions of the steps without a stored one (see layoutPositions). */
  positions?: Record<string, Position>;
}

/** The stable id of an edge's graph edge. */
export function edgeId(e: Edge): string {
  return `${e.from}->${e.to}:${e.branch ?? ''}`;
}

/** The graph ids of a scope's edges; repeated edges get "#2", "#3"... */
export function edgeIdsOf(edges: Edge[]): string[] {
  const seen = new Map<string, number>();
  return edges.map((e) => {
    const id = edgeId(e);
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    return n === 1 ? id : `${id}#${n}`;
  });
}

/** The graph id of the implicit edge from the trigger to a start step. */
export function implicitEdgeId(to: string): string {
  return `${TRIGGER_ID}->${to}`;
}

/** Whether the step type is a container (fanout). */
export function isContainerStep(step: Step, catalog: Catalog): boolean {
  return catalog.stepType(step.type)?.container === true || Array.isArray(step.steps);
}

/** The title a node shows: the step's name, else its type's title, else its type. */
export function stepTitle(step: Step, stepType: StepType | undefined): string {
  return step.name || stepType?.title || step.type;
}

export function toGraph(wf: Workflow, catalog: Catalog, opts: ToGraphOptions = {}): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  let auto: Record<string, Position> | null = null;
  const positionOf = (s: Step): Position => {
    if (isPosition(s.position)) return { x: s.position.x, y: s.position.y };
    const given = opts.positions?.[s.id];
    if (given) return given;
    auto ??= autoLayout(wf, catalog);
    return auto[s.id] ?? { x: 0, y: 0 };
  };

  const triggerType = catalog.triggerType(wf.trigger?.type);
  const triggerNode: TriggerNode = {
    id: TRIGGER_ID,
    type: 'trigger',
    position: { x: 0, y: 0 },
    data: {
      trigger: wf.trigger,
      triggerType,
      title: triggerType?.title ?? wf.trigger?.type ?? 'Trigger',
      category: 'trigger',
      status: opts.statuses?.[TRIGGER_ID],
      problems: opts.problems?.[TRIGGER_ID] ?? [],
    },
    draggable: false,
    deletable: false,
    ariaLabel: `${triggerType?.title ?? wf.trigger?.type ?? 'Trigger'} step`,
    domAttributes: testId(TRIGGER_ID),
  };
  nodes.push(triggerNode);

  /** Adds a scope's nodes and edges; returns the size its nodes need. */
  const addScope = (steps: Step[], scopeEdges: Edge[], parentId: string | null): { right: number; bottom: number; placed: Map<string, Position> } => {
    let right = 0;
    let bottom = 0;
    const placed = new Map<string, Position>();
    for (const step of steps) {
      const stepType = catalog.stepType(step.type);
      const container = isContainerStep(step, catalog);
      const position = positionOf(step);
      placed.set(step.id, position);
      const outgoing = scopeEdges.filter((e) => e.from === step.id);
      const data = stepData(step, stepType, outgoing, container, opts);
      const node: StepNode = {
        id: step.id,
        type: container ? 'group' : 'step',
        position,
        data,
        ariaLabel: `${data.title} step`,
        domAttributes: testId(step.id),
        ...(parentId ? { parentId, extent: 'parent' as const } : {}),
      };
      nodes.push(node);
      let size: Size = stepNodeSize(step, catalog);
      if (container) {
        const inner = addScope(step.steps ?? [], step.edges ?? [], step.id);
        size = {
          width: Math.max(GROUP_MIN_WIDTH, inner.right + GROUP_PADDING),
          height: Math.max(GROUP_MIN_HEIGHT, inner.bottom + GROUP_PADDING, GROUP_HEADER + GROUP_PADDING),
        };
        node.width = size.width;
        node.height = size.height;
        node.style = { width: size.width, height: size.height };
      }
      right = Math.max(right, position.x + size.width);
      bottom = Math.max(bottom, position.y + size.height);
    }
    edges.push(...scopeGraphEdges(steps, scopeEdges, catalog));
    return { right, bottom, placed };
  };

  const top = addScope(wf.steps ?? [], wf.edges ?? [], null);
  const starts = startSteps(wf.steps ?? [], wf.edges ?? []);
  triggerNode.position = isPosition(wf.trigger?.position)
    ? { x: wf.trigger.position.x, y: wf.trigger.position.y }
    : triggerPosition(starts.map((s) => top.placed.get(s.id)!), [...top.placed.values()]);
  for (const s of starts) {
    edges.push({
      id: implicitEdgeId(s.id),
      source: TRIGGER_ID,
      target: s.id,
      sourceHandle: NEXT_HANDLE,
      targetHandle: IN_HANDLE,
      data: { implicit: true },
      className: 'lf-edge-implicit',
      style: { strokeDasharray: '6 4' },
      selectable: false,
      deletable: false,
      focusable: false,
      ariaLabel: `The trigger starts ${s.id}`,
    });
  }
  return { nodes, edges };
}

function stepData(step: Step, stepType: StepType | undefined, outgoing: Edge[], container: boolean, opts: ToGraphOptions): StepNodeData {
  const declared = branchesOf(step, stepType?.branches, stepType?.case_branches);
  const branching = declared.length > 0 || !!stepType?.case_branches;
  const unknownBranches: string[] = [];
  for (const e of outgoing) {
    if (e.branch && !declared.includes(e.branch) && !unknownBranches.includes(e.branch)) unknownBranches.push(e.branch);
  }
  return {
    step,
    stepType,
    title: stepTitle(step, stepType),
    category: stepType?.category ?? '',
    branches: [...declared, ...unknownBranches],
    unknownBranches,
    hasNext: !branching || outgoing.some((e) => !e.branch),
    container,
    status: opts.statuses?.[step.id],
    problems: opts.problems?.[step.id] ?? [],
  };
}

function scopeGraphEdges(steps: Step[], edges: Edge[], catalog: Catalog): FlowEdge[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const ids = edgeIdsOf(edges);
  return edges.map((e, i) => {
    const from = byId.get(e.from);
    const branching = !!from && isBranching(from, catalog);
    return {
      id: ids[i],
      source: e.from,
      target: e.to,
      sourceHandle: e.branch || NEXT_HANDLE,
      targetHandle: IN_HANDLE,
      data: e.branch ? { branch: e.branch } : {},
      ...(e.branch && branching ? { label: e.branch, className: 'lf-edge-branch' } : {}),
      ariaLabel: `Edge from ${e.from}${e.branch ? ` (${e.branch})` : ''} to ${e.to}`,
    };
  });
}

function isBranching(step: Step, catalog: Catalog): boolean {
  const t = catalog.stepType(step.type);
  return (t?.branches?.length ?? 0) > 0 || !!t?.case_branches;
}

/** The steps of a scope with no incoming edge: they start first. */
export function startSteps(steps: Step[], edges: Edge[]): Step[] {
  const targets = new Set(edges.map((e) => e.to));
  return steps.filter((s) => !targets.has(s.id));
}

/** Above the start steps (or all steps), centred on them. */
function triggerPosition(starts: Position[], all: Position[]): Position {
  const basis = starts.length ? starts : all;
  if (!basis.length) return { x: 0, y: 0 };
  const x = basis.reduce((sum, p) => sum + p.x, 0) / basis.length;
  const y = Math.min(...all.map((p) => p.y)) - NODE_HEIGHT - 60;
  return { x: Math.round(x), y: Math.round(y) };
}

function testId(id: string): RFNode['domAttributes'] {
  return { 'data-testid': `node-${id}` } as RFNode['domAttributes'];
}

/** The problem messages of each node, for toGraph's opts.problems. */
export function problemMessages(wf: Workflow, problems: Problem[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, list] of Object.entries(problemsByNode(wf, problems))) {
    out[id] = list.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
  }
  return out;
}

// ---------------------------------------------------------------- edits

/** The result of an edit that can be refused: wf unchanged with error set. */
export interface EditResult {
  wf: Workflow;
  error?: string;
}

/** What the canvas copies: steps (with their bodies) and the edges among them. */
export interface ClipboardData {
  kind: 'leverflow/steps';
  steps: Step[];
  edges: Edge[];
}

export const STEP_ID_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

type Scope = { steps?: Step[]; edges?: Edge[] };

/**
 * Rewrites every scope (the top level and each fanout body, innermost
 * first) with fn, copying only what changes.
 */
function mapScopes<T extends Scope>(owner: T, parentId: string | null, fn: (steps: Step[], edges: Edge[], parentId: string | null) => { steps: Step[]; edges: Edge[] }): T {
  const ownSteps = owner.steps ?? [];
  const ownEdges = owner.edges ?? [];
  let childrenChanged = false;
  const steps = ownSteps.map((s) => {
    if (!Array.isArray(s.steps) && !Array.isArray(s.edges)) return s;
    const next = mapScopes(s, s.id, fn);
    if (next !== s) childrenChanged = true;
    return next;
  });
  const r = fn(childrenChanged ? steps : ownSteps, ownEdges, parentId);
  return withScope(owner, r.steps, r.edges);
}

/** owner with steps/edges set, only for the keys whose values changed. */
function withScope<T extends Scope>(owner: T, steps: Step[], edges: Edge[]): T {
  const stepsChanged = steps !== (owner.steps ?? steps) || (owner.steps === undefined && steps.length > 0);
  const edgesChanged = edges !== (owner.edges ?? edges) || (owner.edges === undefined && edges.length > 0);
  if (!stepsChanged && !edgesChanged) return owner;
  const next = { ...owner };
  if (stepsChanged) next.steps = steps;
  if (edgesChanged) next.edges = edges;
  return next;
}

/** Rewrites one scope: the top level (parentId null) or a fanout body. */
function mapScope(wf: Workflow, parentId: string | null, fn: (steps: Step[], edges: Edge[]) => { steps: Step[]; edges: Edge[] }): Workflow {
  if (parentId === null) {
    const r = fn(wf.steps ?? [], wf.edges ?? []);
    return withScope(wf, r.steps, r.edges);
  }
  return updateStep(wf, parentId, (s) => {
    const r = fn(s.steps ?? [], s.edges ?? []);
    return withScope(s, r.steps, r.edges);
  });
}

/** The fanout to add into: parentId when it names a container, else null (top level). */
function containerScope(wf: Workflow, catalog: Catalog, parentId: string | null | undefined): string | null {
  if (!parentId || parentId === TRIGGER_ID) return null;
  const loc = findStep(wf, parentId);
  return loc && isContainerStep(loc.step, catalog) ? parentId : null;
}

function roundPosition(p: Position): Position {
  return { x: Math.round(p.x), y: Math.round(p.y) };
}

/** The starting input of a new step: the defaults of its required fields. */
export function initialInput(type: string, stepType: StepType | undefined): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const schema = stepType?.input;
  for (const name of schema?.required ?? []) {
    const d = schema?.properties?.[name]?.default;
    if (d !== undefined) input[name] = structuredClone(d);
  }
  if (type === 'condition' && input.if === undefined) input.if = '';
  return input;
}

/**
 * Adds a step of type at position (relative to the fanout when parentId
 * names one; a parentId that is no fanout adds at the top level). A step
 * that needs a connection gets defaultConnection; a fanout gets an empty
 * body. With no position the step is auto-laid out.
 */
export function addStep(
  wf: Workflow,
  catalog: Catalog,
  type: string,
  position?: Position | null,
  parentId?: string | null,
  defaultConnection?: string,
): { wf: Workflow; id: string } {
  const stepType = catalog.stepType(type);
  const id = uniqueStepId(wf, type.split('.').pop() ?? type);
  const step: Step = { id, type };
  if (stepType?.needs_connection && defaultConnection) step.connection = defaultConnection;
  step.input = initialInput(type, stepType);
  if (stepType?.container) {
    step.steps = [];
    step.edges = [];
  }
  if (position) step.position = roundPosition(position);
  const scope = containerScope(wf, catalog, parentId);
  return { wf: mapScope(wf, scope, (steps, edges) => ({ steps: [...steps, step], edges })), id };
}

/** Removes steps (a fanout with its body) and every edge to or from them. The trigger stays. */
export function removeSteps(wf: Workflow, ids: Iterable<string>): Workflow {
  const removed = new Set<string>();
  for (const id of ids) {
    if (id === TRIGGER_ID) continue;
    const loc = findStep(wf, id);
    if (!loc) continue;
    removed.add(id);
    walkSteps({ ...wf, steps: loc.step.steps ?? [] }, (l) => removed.add(l.step.id));
  }
  if (!removed.size) return wf;
  return mapScopes(wf, null, (steps, edges) => {
    const keptSteps = steps.filter((s) => !removed.has(s.id));
    const keptEdges = edges.filter((e) => !removed.has(e.from) && !removed.has(e.to));
    return {
      steps: keptSteps.length === steps.length ? steps : keptSteps,
      edges: keptEdges.length === edges.length ? edges : keptEdges,
    };
  });
}

function describeScope(parent: Step | null): string {
  return parent ? `inside the For each "${parent.id}"` : 'at the top level';
}

/** A path of edges from `from` to `to` in edges, or null. */
function findPath(edges: Edge[], from: string, to: string): string[] | null {
  const prev = new Map<string, string>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length) {
    const cur = queue.shift()!;
    if (cur === to) {
      const path = [cur];
      for (let p = prev.get(cur); p !== undefined; p = prev.get(p)) path.unshift(p);
      return path;
    }
    for (const e of edges) {
      if (e.from === cur && !seen.has(e.to)) {
        seen.add(e.to);
        prev.set(e.to, cur);
        queue.push(e.to);
      }
    }
  }
  return null;
}

/**
 * Adds the edge from -> to (leaving from's branch when given). Refused,
 * with a message, when the steps are in different scopes, the edge exists,
 * it would join a step to itself or close a loop. Connecting the trigger to
 * a step with no incoming edge changes nothing: such steps start anyway.
 */
export function connect(wf: Workflow, from: string, to: string, branch?: string | null): EditResult {
  if (to === TRIGGER_ID) return { wf, error: 'Nothing can connect to the trigger: it is where every run starts.' };
  const target = findStep(wf, to);
  if (!target) return { wf, error: `There is no step "${to}".` };
  if (from === TRIGGER_ID) {
    const { edges } = scopeOf(wf, target.parent?.id ?? null);
    if (target.parent) return { wf, error: `"${to}" is inside the For each "${target.parent.id}": the trigger starts only top-level steps.` };
    if (edges.some((e) => e.to === to)) {
      return { wf, error: `"${to}" already waits for other steps. The trigger starts the steps with no incoming edge: remove "${to}"'s incoming edges to start it from the trigger.` };
    }
    return { wf };
  }
  const source = findStep(wf, from);
  if (!source) return { wf, error: `There is no step "${from}".` };
  if (from === to) return { wf, error: `A step cannot connect to itself ("${from}").` };
  const scope = source.parent?.id ?? null;
  if (scope !== (target.parent?.id ?? null)) {
    return {
      wf,
      error: `Cannot connect "${from}" to "${to}": "${from}" is ${describeScope(source.parent)} and "${to}" is ${describeScope(target.parent)}. Edges join steps at the same level only.`,
    };
  }
  const b = branch || undefined;
  const { edges } = scopeOf(wf, scope);
  if (edges.some((e) => e.from === from && e.to === to && (e.branch || undefined) === b)) {
    return { wf, error: `"${from}" already connects to "${to}"${b ? ` on the "${b}" branch` : ''}.` };
  }
  const loop = findPath(edges, to, from);
  if (loop) {
    return {
      wf,
      error: `Connecting "${from}" to "${to}" would make a cycle (${[...loop, to].join(' → ')}): workflows cannot loop. Use a For each to repeat steps.`,
    };
  }
  const edge: Edge = b ? { from, to, branch: b } : { from, to };
  return { wf: mapScope(wf, scope, (steps, list) => ({ steps, edges: [...list, edge] })) };
}

/** Removes the edges with these graph ids (see edgeIdsOf); implicit edges are ignored. */
export function disconnect(wf: Workflow, edgeIds: Iterable<string>): Workflow {
  const drop = new Set(edgeIds);
  if (!drop.size) return wf;
  return mapScopes(wf, null, (steps, edges) => {
    const ids = edgeIdsOf(edges);
    const kept = edges.filter((_, i) => !drop.has(ids[i]));
    return { steps, edges: kept.length === edges.length ? edges : kept };
  });
}

/** Writes step.position (rounded to integers). The trigger's position is not stored: moving it changes nothing. */
export function moveStep(wf: Workflow, id: string, position: Position): Workflow {
  return moveSteps(wf, { [id]: position });
}

/** Writes several steps' positions at once (a multi-node drag). */
export function moveSteps(wf: Workflow, moves: Record<string, Position>): Workflow {
  let next = wf;
  for (const [id, position] of Object.entries(moves)) {
    if (id === TRIGGER_ID) continue;
    const p = roundPosition(position);
    const current = findStep(next, id)?.step.position;
    if (current && current.x === p.x && current.y === p.y) continue;
    next = updateStep(next, id, (s) => ({ ...s, position: p }));
  }
  return next;
}

/**
 * The step positions to save from a batch of React Flow node changes: the
 * final position changes (dragging false) of a move made outside a mouse
 * drag (the arrow keys: React Flow fires no drag stop for them), or null.
 * drag.current says a mouse drag is in progress: its changes (dragging
 * true) set it, and the final changes that end it (saved by the drag stop
 * handler, or an aborted drag putting the nodes back) clear it and are not
 * returned. The trigger's position is never saved.
 */
export function keyboardMoves(changes: NodeChange<FlowNode>[], drag: { current: boolean }): Record<string, Position> | null {
  const moves: Record<string, Position> = {};
  let any = false;
  let ended = false;
  for (const c of changes) {
    if (c.type !== 'position' || !c.position) continue;
    if (c.dragging) {
      drag.current = true;
      continue;
    }
    if (drag.current) {
      ended = true;
      continue;
    }
    if (c.id === TRIGGER_ID) continue;
    moves[c.id] = c.position;
    any = true;
  }
  if (ended) drag.current = false;
  return any ? moves : null;
}

/**
 * Copies steps (a fanout with its body) and the edges among them. A step
 * inside a fanout that is copied too comes with the fanout. Steps with no
 * stored position take the one in positions (where the canvas shows them).
 */
export function copySteps(wf: Workflow, ids: Iterable<string>, positions?: Record<string, Position>): ClipboardData {
  const wanted = new Set(ids);
  wanted.delete(TRIGGER_ID);
  const picked: { step: Step; parent: string | null }[] = [];
  walkSteps(wf, (loc) => {
    if (!wanted.has(loc.step.id)) return;
    let ancestor = loc.parent;
    while (ancestor) {
      if (wanted.has(ancestor.id)) return;
      ancestor = findStep(wf, ancestor.id)?.parent ?? null;
    }
    picked.push({ step: loc.step, parent: loc.parent?.id ?? null });
  });
  const withPositions = (s: Step): Step => {
    let c = s;
    const p = positions?.[s.id];
    if (!isPosition(s.position) && p) c = { ...c, position: roundPosition(p) };
    if (s.steps) c = { ...c, steps: s.steps.map(withPositions) };
    return c;
  };
  const steps = picked.map(({ step }) => structuredClone(withPositions(step)));
  const copiedIn = new Map(picked.map(({ step, parent }) => [step.id, parent]));
  const edges: Edge[] = [];
  for (const scope of new Set(picked.map((p) => p.parent))) {
    for (const e of scopeOf(wf, scope).edges) {
      if (copiedIn.get(e.from) === scope && copiedIn.get(e.to) === scope && copiedIn.has(e.from) && copiedIn.has(e.to)) edges.push({ ...e });
    }
  }
  return { kind: 'leverflow/steps', steps, edges };
}

/** A step id not in used, from base: "opp" stays "opp" when free, else "opp_2", "opp_3"... */
function freshId(base: string, used: Set<string>): string {
  if (!used.has(base) && STEP_ID_PATTERN.test(base)) return base;
  const stem = base.replace(/_\d+$/, '').slice(0, 56) || 'step';
  for (let i = 2; ; i++) if (!used.has(`${stem}_${i}`)) return `${stem}_${i}`;
}

/**
 * Pastes copied steps into the top level (or the fanout parentId) with new
 * unique ids, moved by offset. Edges among them are kept, and references to
 * a pasted step (<<steps.old.x>>) inside the pasted inputs follow its new
 * id. Returns the new ids of the pasted (outermost) steps.
 */
export function pasteSteps(wf: Workflow, data: ClipboardData, offset: Position, parentId?: string | null): { wf: Workflow; ids: string[] } {
  if (!data.steps.length) return { wf, ids: [] };
  const used = new Set(allStepIds(wf));
  const renames = new Map<string, string>();
  const name = (list: Step[]) =>
    list.forEach((s) => {
      const id = freshId(s.id, used);
      used.add(id);
      renames.set(s.id, id);
      if (s.steps) name(s.steps);
    });
  name(data.steps);
  const renameEdge = (e: Edge): Edge => ({ ...e, from: renames.get(e.from) ?? e.from, to: renames.get(e.to) ?? e.to });
  const copy = (s: Step, top: boolean): Step => {
    const c: Step = { ...structuredClone(s), id: renames.get(s.id) ?? s.id };
    if (c.input !== undefined) c.input = rewriteRefs(c.input, renames) as Record<string, unknown>;
    if (top && isPosition(s.position)) c.position = roundPosition({ x: s.position.x + offset.x, y: s.position.y + offset.y });
    if (s.steps) c.steps = s.steps.map((child) => copy(child, false));
    if (s.edges) c.edges = s.edges.map(renameEdge);
    return c;
  };
  const steps = data.steps.map((s) => copy(s, true));
  const edges = data.edges.map(renameEdge);
  const scope = parentId && parentId !== TRIGGER_ID && findStep(wf, parentId)?.step.steps ? parentId : null;
  const next = mapScope(wf, scope, (list, scopeEdges) => ({ steps: [...list, ...steps], edges: edges.length ? [...scopeEdges, ...edges] : scopeEdges }));
  return { wf: next, ids: steps.map((s) => s.id) };
}

/**
 * Renames a step: its id, every edge to or from it and every reference to
 * it (steps.<old>) in every step's input. Refused with a message when the
 * new id is not a valid step id or is taken.
 */
export function renameStep(wf: Workflow, oldId: string, newId: string): EditResult {
  if (oldId === newId) return { wf };
  if (oldId === TRIGGER_ID || !findStep(wf, oldId)) return { wf, error: `There is no step "${oldId}".` };
  if (!STEP_ID_PATTERN.test(newId)) {
    return {
      wf,
      error: `"${newId}" is not a valid step id: use 1 to 63 lower-case letters, digits and underscores, starting with a letter (such as "${uniqueStepId(wf, newId)}").`,
    };
  }
  if (findStep(wf, newId)) return { wf, error: `There is already a step "${newId}": step ids must be unique in the workflow.` };
  const renames = new Map([[oldId, newId]]);
  const renameEdge = (e: Edge): Edge => (e.from === oldId || e.to === oldId ? { ...e, from: e.from === oldId ? newId : e.from, to: e.to === oldId ? newId : e.to } : e);
  const next = mapScopes(wf, null, (steps, edges) => {
    const s2 = steps.map((s) => {
      let c = s.id === oldId ? { ...s, id: newId } : s;
      if (c.input !== undefined) {
        const input = rewriteRefs(c.input, renames) as Record<string, unknown>;
        if (input !== c.input) c = { ...c, input };
      }
      return c;
    });
    const e2 = edges.map(renameEdge);
    return {
      steps: s2.some((s, i) => s !== steps[i]) ? s2 : steps,
      edges: e2.some((e, i) => e !== edges[i]) ? e2 : edges,
    };
  });
  return { wf: next };
}

/**
 * Renames a branch of a step: every edge from stepId whose branch is
 * oldBranch gets newBranch (a switch case was renamed). Returns wf itself
 * when no edge changes or newBranch is empty.
 */
export function renameBranch(wf: Workflow, stepId: string, oldBranch: string, newBranch: string): Workflow {
  if (!oldBranch || !newBranch || oldBranch === newBranch) return wf;
  const loc = findStep(wf, stepId);
  if (!loc) return wf;
  return mapScope(wf, loc.parent?.id ?? null, (steps, edges) => {
    let changed = false;
    const next = edges.map((e) => {
      if (e.from !== stepId || e.branch !== oldBranch) return e;
      changed = true;
      return { ...e, branch: newBranch };
    });
    return { steps, edges: changed ? next : edges };
  });
}

/**
 * Case index -> the branch name its edges still use, for a case whose
 * name is empty or clashes with another branch for now (being retyped).
 */
export type PendingCaseBranches = Record<number, string>;

function caseName(c: unknown): string {
  const n = c && typeof c === 'object' ? (c as { name?: unknown }).name : undefined;
  return typeof n === 'string' ? n : '';
}

/**
 * The branch renames a change of a switch's cases calls for: a case whose
 * name changed at the same index takes its edges along ([old, new] pairs,
 * for renameBranch). While a name is empty or the same as another branch
 * (a name being retyped), the edges stay, and the name they use is kept in
 * pending, so they follow once the name is unique again. Adding, removing
 * or moving cases (the list's length changes) renames nothing.
 */
export function caseBranchRenames(
  oldCases: unknown,
  newCases: unknown,
  pending: PendingCaseBranches = {},
  staticBranches: string[] = [],
): { renames: [string, string][]; pending: PendingCaseBranches } {
  const renames: [string, string][] = [];
  if (!Array.isArray(oldCases) || !Array.isArray(newCases) || oldCases.length !== newCases.length) return { renames, pending: {} };
  const before = oldCases.map(caseName);
  const after = newCases.map(caseName);
  const out: PendingCaseBranches = { ...pending };
  for (let i = 0; i < after.length; i++) {
    const o = before[i];
    const n = after[i];
    if (o === n) continue;
    const from = out[i] ?? o;
    if (!from) continue;
    const clash = (name: string, names: string[]) => staticBranches.includes(name) || names.some((x, j) => j !== i && x === name);
    if (n === '' || clash(n, after)) {
      out[i] = from;
      continue;
    }
    delete out[i];
    // a name another case uses too: its edges are not this case's alone
    if (clash(from, before) || from === n) continue;
    renames.push([from, n]);
  }
  return { renames, pending: out };
}

// ---------------------------------------------------------------- references

/**
 * Rewrites references to renamed steps (steps.old, steps['old']) inside
 * every <<...>> of value's strings and object keys. Returns value itself
 * when nothing changes; object key order is kept.
 */
export function rewriteRefs(value: unknown, renames: Map<string, string>): unknown {
  if (typeof value === 'string') return rewriteTemplate(value, renames);
  if (Array.isArray(value)) {
    const out = value.map((v) => rewriteRefs(v, renames));
    return out.some((v, i) => v !== value[i]) ? out : value;
  }
  if (value && typeof value === 'object') {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const k2 = rewriteTemplate(k, renames);
      const v2 = rewriteRefs(v, renames);
      if (k2 !== k || v2 !== v) changed = true;
      out[k2] = v2;
    }
    return changed ? out : value;
  }
  return value;
}

/** Rewrites the references of one templated string (escaped \<< is text). */
export function rewriteTemplate(s: string, renames: Map<string, string>): string {
  if (!s.includes('<<') || !renames.size) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const j = s.indexOf('<<', i);
    if (j < 0) break;
    if (j > 0 && s[j - 1] === '\\') {
      out += s.slice(i, j + 2);
      i = j + 2;
      continue;
    }
    const k = referenceEnd(s, j + 2);
    if (k < 0) break;
    out += s.slice(i, j + 2) + rewriteExpr(s.slice(j + 2, k), renames) + '>>';
    i = k + 2;
  }
  out += s.slice(i);
  return out === s ? s : out;
}


const IDENT = /[A-Za-z0-9_$]/;
// steps.x and steps?.x; steps['x'] and steps?.['x'] (the templating accepts both)
const DOT_REF = /^steps(\s*\??\.\s*)([A-Za-z_][A-Za-z0-9_]*)/;
const INDEX_REF = /^steps\s*(?:\?\.\s*)?\[\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1\s*\]/;

/** Rewrites steps.<old> (steps?.old, steps['old'], steps?.['old']) in an expression, outside string literals. */
function rewriteExpr(expr: string, renames: Map<string, string>): string {
  let out = '';
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      let k = i + 1;
      while (k < expr.length && expr[k] !== c) k += expr[k] === '\\' && c !== '`' ? 2 : 1;
      out += expr.slice(i, k + 1);
      i = k + 1;
      continue;
    }
    const prev = i > 0 ? expr[i - 1] : '';
    if (c === 's' && !IDENT.test(prev) && prev !== '.') {
      const rest = expr.slice(i);
      const dot = DOT_REF.exec(rest);
      if (dot && renames.has(dot[2]) && !IDENT.test(rest.charAt(dot[0].length))) {
        out += 'steps' + dot[1] + renames.get(dot[2]);
        i += dot[0].length;
        continue;
      }
      const idx = INDEX_REF.exec(rest);
      if (idx && renames.has(idx[2])) {
        out += idx[0].replace(`${idx[1]}${idx[2]}${idx[1]}`, `${idx[1]}${renames.get(idx[2])}${idx[1]}`);
        i += idx[0].length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}
