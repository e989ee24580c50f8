// Pure helpers over workflow JSON shared by the canvas, the inspector and
// the reference menu. Every change returns a new workflow and keeps every
// field it does not touch (and the order of keys), so a round trip through
// the editor leaves the JSON as it was.
import type { Edge, Problem, Step, Workflow } from './api/types';

/** The id the canvas and the inspector give the trigger node. */
export const TRIGGER_ID = '__trigger';

/** Where a step lives: its list's owner (null = top level) and index. */
export interface StepLocation {
  step: Step;
  /** The fanout holding the step, or null at the top level. */
  parent: Step | null;
  index: number;
  /** The JSON path of the step: "steps[2]" or "steps[0].steps[1]". */
  path: string;
}

/** Visits every step, fanout bodies included, in document order. */
export function walkSteps(wf: Workflow, fn: (loc: StepLocation) => void): void {
  const visit = (list: Step[] | undefined, parent: Step | null, base: string) => {
    (list ?? []).forEach((step, index) => {
      const path = `${base}steps[${index}]`;
      fn({ step, parent, index, path });
      if (step.steps) visit(step.steps, step, path + '.');
    });
  };
  visit(wf.steps, null, '');
}

/**
 * Every step's location by id, made once per workflow object: workflows
 * are never changed in place (each edit makes a new object), so the index
 * of one stays right for as long as it lives.
 */
const locations = new WeakMap<Workflow, Map<string, StepLocation>>();

export function findStep(wf: Workflow, id: string): StepLocation | null {
  let index = locations.get(wf);
  if (!index) {
    const built = new Map<string, StepLocation>();
    walkSteps(wf, (loc) => {
      if (!built.has(loc.step.id)) built.set(loc.step.id, loc);
    });
    locations.set(wf, built);
    index = built;
  }
  return index.get(id) ?? null;
}

export function allStepIds(wf: Workflow): string[] {
  const ids: string[] = [];
  walkSteps(wf, (l) => ids.push(l.step.id));
  return ids;
}

/** The steps and edges of a scope: the workflow (null) or a fanout's body. */
export function scopeOf(wf: Workflow, parentId: string | null): { steps: Step[]; edges: Edge[] } {
  if (parentId === null) return { steps: wf.steps ?? [], edges: wf.edges ?? [] };
  const p = findStep(wf, parentId);
  return { steps: p?.step.steps ?? [], edges: p?.step.edges ?? [] };
}

/**
 * Returns a copy of wf with the step id replaced by fn(step). Only the
 * objects on the way to the step are copied.
 */
export function updateStep(wf: Workflow, id: string, fn: (s: Step) => Step): Workflow {
  const mapList = (list: Step[]): [Step[], boolean] => {
    let changed = false;
    const out = list.map((s) => {
      if (s.id === id) {
        changed = true;
        return fn(s);
      }
      if (s.steps) {
        const [inner, ch] = mapList(s.steps);
        if (ch) {
          changed = true;
          return { ...s, steps: inner };
        }
      }
      return s;
    });
    return [changed ? out : list, changed];
  };
  const [steps, changed] = mapList(wf.steps ?? []);
  return changed ? { ...wf, steps } : wf;
}

/**
 * The ids of the steps upstream of id: those it can reference. Inside a
 * fanout that is the steps upstream within the body plus everything
 * upstream of the fanout itself (and the fanout's ancestors').
 */
export function upstreamOf(wf: Workflow, id: string): string[] {
  const loc = findStep(wf, id);
  if (!loc) return [];
  const { edges } = scopeOf(wf, loc.parent?.id ?? null);
  const parents = new Map<string, string[]>();
  for (const e of edges) {
    const list = parents.get(e.to) ?? [];
    list.push(e.from);
    parents.set(e.to, list);
  }
  const seen = new Set<string>();
  const order: string[] = [];
  const stack = [...(parents.get(id) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p) || p === id) continue;
    seen.add(p);
    order.push(p);
    stack.push(...(parents.get(p) ?? []));
  }
  if (loc.parent) {
    for (const a of upstreamOf(wf, loc.parent.id)) if (!seen.has(a)) order.push(a);
  }
  return order;
}

/** The fanouts holding id, innermost first. */
export function enclosingFanouts(wf: Workflow, id: string): Step[] {
  const out: Step[] = [];
  let loc = findStep(wf, id);
  while (loc?.parent) {
    out.push(loc.parent);
    loc = findStep(wf, loc.parent.id);
  }
  return out;
}

/**
 * Sorts validation problems by the node they belong to: a step id, or
 * TRIGGER_ID for "trigger..." and workflow-level paths. Each problem keeps
 * its full path; `field` is the rest after the step's path ("input.if").
 */
export function problemsByNode(wf: Workflow, problems: Problem[]): Record<string, (Problem & { field: string })[]> {
  const paths: [string, string][] = [];
  walkSteps(wf, (l) => paths.push([l.path, l.step.id]));
  paths.sort((a, b) => b[0].length - a[0].length); // innermost first
  const out: Record<string, (Problem & { field: string })[]> = {};
  const add = (id: string, p: Problem, field: string) => (out[id] ??= []).push({ ...p, field });
  for (const p of problems) {
    const hit = paths.find(([path]) => p.path === path || p.path.startsWith(path + '.') || p.path.startsWith(path + '['));
    if (hit) add(hit[1], p, p.path.slice(hit[0].length).replace(/^\./, ''));
    else if (/^edges\[\d+\]/.test(p.path) || /\.edges\[\d+\]/.test(p.path)) {
      const m = /^(.*)edges\[(\d+)\]/.exec(p.path)!;
      const owner = m[1] ? paths.find(([path]) => path + '.' === m[1]) : undefined;
      const edges = owner ? findStep(wf, owner[1])?.step.edges : wf.edges;
      const e = edges?.[Number(m[2])];
      add(e?.to ?? TRIGGER_ID, p, p.path);
    } else add(TRIGGER_ID, p, p.path);
  }
  return out;
}

/** A step id not used yet, from a base such as "get_opportunity". */
export function uniqueStepId(wf: Workflow, base: string): string {
  let b = base.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^[^a-z]+/, '').replace(/_+$/, '').slice(0, 56);
  if (!b) b = 'step';
  const used = new Set(allStepIds(wf));
  if (!used.has(b)) return b;
  for (let i = 2; ; i++) if (!used.has(`${b}_${i}`)) return `${b}_${i}`;
}

/** The branch names a step offers: condition true/false, switch cases + default. */
export function branchesOf(step: Step, staticBranches: string[] | undefined, caseField?: string): string[] {
  const out = [...(staticBranches ?? [])];
  if (caseField) {
    const cases = step.input?.[caseField];
    if (Array.isArray(cases)) {
      const names = cases.map((c) => (c && typeof c === 'object' ? (c as { name?: unknown }).name : undefined)).filter((n): n is string => typeof n === 'string' && n !== '');
      // case names first, in order, then the static ones (default)
      return [...names.filter((n) => !out.includes(n)), ...out];
    }
  }
  return out;
}

/**
 * The offset of the ">>" closing a reference whose expression starts at
 * from, skipping ">>" inside string literals ('...', "...", `...`); -1 when
 * the reference is not closed.
 */
export function referenceEnd(s: string, from: number): number {
  let quote = '';
  for (let k = from; k < s.length; k++) {
    const c = s[k];
    if (quote) {
      if (c === '\\' && quote !== '`') k++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '>' && s[k + 1] === '>') return k;
  }
  return -1;
}
