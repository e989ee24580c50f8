// What a << reference >> may read at a place of a workflow, and checks of
// the references typed there. Pure: the reference menu, the chips under an
// input and the problems shown as you type all come from here.
import type { Run, Schema, Step, Workflow } from '../api/types';
import type { Catalog } from '../catalog';
import { enclosingFanouts, findStep, referenceEnd, upstreamOf } from '../model';

export interface RefContext {
  workflow: Workflow;
  /** The step whose field is edited; null for a trigger-level field. */
  stepId: string | null;
  catalog: Catalog;
  lastRun?: Run | null;
}

export interface RefChoice {
  /** What goes between << and >>: "steps.opp.name". */
  expr: string;
  /** "Get Opportunity > name". */
  label: string;
  /** "Trigger", "Get Opportunity (opp)", "Current item", "Variables", "Run". */
  group: string;
  /** "string", "integer", "object", "array", ... */
  type: string;
  description?: string;
  /** The value in the last run, when there is one. */
  sample?: unknown;
}

export type Segment =
  | { kind: 'text'; text: string; start: number; end: number }
  | { kind: 'ref'; expr: string; raw: string; start: number; end: number; unterminated?: boolean };

const MAX_DEPTH = 3;
const ROOTS = ['trigger', 'steps', 'item', 'index', 'run', 'vars', 'user'];

// expr-lang's builtins and keywords: names an expression may use that are
// not roots.
const BUILTINS = new Set([
  'all', 'any', 'one', 'none', 'map', 'filter', 'find', 'findIndex', 'findLast', 'findLastIndex', 'count', 'sum',
  'groupBy', 'sortBy', 'reduce', 'len', 'type', 'abs', 'ceil', 'floor', 'round', 'int', 'float', 'string', 'trim',
  'trimPrefix', 'trimSuffix', 'upper', 'lower', 'split', 'splitAfter', 'replace', 'repeat', 'indexOf',
  'lastIndexOf', 'hasPrefix', 'hasSuffix', 'max', 'min', 'mean', 'median', 'toJSON', 'fromJSON', 'toBase64',
  'fromBase64', 'now', 'duration', 'date', 'timezone', 'first', 'last', 'get', 'take', 'keys', 'values',
  'toPairs', 'fromPairs', 'sort', 'concat', 'flatten', 'uniq', 'join', 'reverse', 'bitand', 'bitor', 'bitxor',
  'bitnand', 'bitnot', 'bitshl', 'bitshr', 'bitushr', 'true', 'false', 'nil', 'in', 'not', 'and', 'or',
  'matches', 'contains', 'startsWith', 'endsWith', 'let', 'if', 'else', '$env',
]);

// ---------------------------------------------------------------- helpers

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeOfValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function isIdent(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

function member(base: string, key: string): string {
  return isIdent(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** The title a step shows: its name, its type's title, or its id. */
export function stepTitle(step: Step, catalog: Catalog): string {
  return step.name?.trim() || catalog.stepType(step.type)?.title || step.id;
}

/** Levenshtein distance, for did-you-mean suggestions. */
export function editDistance(a: string, b: string): number {
  const al = a.toLowerCase();
  const bl = b.toLowerCase();
  let prev = Array.from({ length: bl.length + 1 }, (_, i) => i);
  for (let i = 1; i <= al.length; i++) {
    const cur = [i];
    for (let j = 1; j <= bl.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (al[i - 1] === bl[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[bl.length];
}

/** The closest of candidates to word, when close enough to be a typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(2, Math.floor(word.length / 3));
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD && d <= limit) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

// ------------------------------------------------------------ the samples

/** The output of a step in a run: by its id, or (inside a fanout) its first item's. */
function stepRunOf(run: Run | null | undefined, id: string) {
  if (!run?.steps) return undefined;
  if (run.steps[id]) return run.steps[id];
  const key = Object.keys(run.steps)
    .filter((k) => k.endsWith(`].${id}`))
    .sort()[0];
  return key ? run.steps[key] : undefined;
}

function sampleOutput(run: Run | null | undefined, id: string): unknown {
  const sr = stepRunOf(run, id);
  return sr && sr.status === 'succeeded' ? sr.output : sr?.output ?? undefined;
}

/** Reads a simple path (trigger.a.b, steps.x.y[0]) in a run's values. */
function sampleAt(run: Run | null | undefined, segs: (string | number)[]): unknown {
  if (!run || segs.length === 0) return undefined;
  let cur: unknown;
  let rest: (string | number)[];
  if (segs[0] === 'trigger') {
    cur = run.trigger;
    rest = segs.slice(1);
  } else if (segs[0] === 'steps' && typeof segs[1] === 'string') {
    cur = sampleOutput(run, segs[1]);
    rest = segs.slice(2);
  } else return undefined;
  for (const s of rest) {
    if (Array.isArray(cur) && typeof s === 'number') cur = cur[s];
    else if (isObject(cur) && typeof s === 'string') cur = cur[s];
    else return undefined;
  }
  return cur;
}

// -------------------------------------------------------------- choices

interface Walk {
  out: RefChoice[];
  group: string;
  seen: Set<string>;
}

function add(w: Walk, c: RefChoice) {
  if (w.seen.has(c.expr)) return;
  w.seen.add(c.expr);
  w.out.push(c);
}

/**
 * Offers the fields of schema (and of sample, the real value, for fields
 * the schema does not list) under expr, labelled under label.
 */
function walkFields(w: Walk, schema: Schema | undefined, sample: unknown, expr: string, label: string, depth: number) {
  if (depth > MAX_DEPTH) return;
  const props = schema?.type === 'object' || !schema ? schema?.properties ?? {} : {};
  const names = Object.keys(props);
  if (isObject(sample)) for (const k of Object.keys(sample)) if (!names.includes(k)) names.push(k);
  for (const name of names) {
    const s = props[name];
    const v = isObject(sample) ? sample[name] : undefined;
    offer(w, s, v, member(expr, name), `${label} > ${name}`, depth);
  }
  // a list: its first item's fields
  if ((schema?.type === 'array' || Array.isArray(sample)) && depth <= MAX_DEPTH) {
    const first = Array.isArray(sample) ? sample[0] : undefined;
    const items = schema?.items;
    if (items?.type === 'object' || isObject(first)) walkFields(w, items, first, `${expr}[0]`, `${label}[0]`, depth);
  }
}

function offer(w: Walk, schema: Schema | undefined, sample: unknown, expr: string, label: string, depth: number) {
  const c: RefChoice = {
    expr,
    label,
    group: w.group,
    type: schema?.type && schema.type !== 'any' ? schema.type : sample !== undefined ? typeOfValue(sample) : schema?.type ?? 'any',
  };
  if (schema?.description) c.description = schema.description;
  if (sample !== undefined) c.sample = sample;
  add(w, c);
  const nested = schema?.type === 'object' || schema?.type === 'array' || isObject(sample) || Array.isArray(sample);
  if (nested && depth < MAX_DEPTH) walkFields(w, schema, sample, expr, label, depth + 1);
}

/** Resolves the schema at a simple path (trigger.a, steps.x.b[0].c) in the workflow. */
function schemaAt(ctx: RefContext, segs: (string | number)[]): Schema | undefined {
  let schema: Schema | undefined;
  let rest: (string | number)[];
  if (segs[0] === 'trigger') {
    schema = ctx.catalog.triggerType(ctx.workflow.trigger?.type)?.data;
    rest = segs.slice(1);
  } else if (segs[0] === 'steps' && typeof segs[1] === 'string') {
    const loc = findStep(ctx.workflow, segs[1]);
    schema = loc ? ctx.catalog.stepType(loc.step.type)?.output : undefined;
    rest = segs.slice(2);
  } else return undefined;
  for (const s of rest) {
    if (!schema) return undefined;
    if (typeof s === 'number') schema = schema.type === 'array' ? schema.items : undefined;
    else schema = schema.properties?.[s];
  }
  return schema;
}

/** Everything a reference may read at ctx's place, grouped, upstream steps nearest first. */
export function referenceChoices(ctx: RefContext): RefChoice[] {
  const { workflow, catalog, lastRun } = ctx;
  const out: RefChoice[] = [];
  const seen = new Set<string>();

  // the current fanout's item and index
  if (ctx.stepId) {
    const fanout = enclosingFanouts(workflow, ctx.stepId)[0];
    if (fanout) {
      const w: Walk = { out, seen, group: 'Current item' };
      const items = fanout.input?.items;
      let itemSchema: Schema | undefined;
      let sample: unknown;
      const fanRun = stepRunOf(lastRun, fanout.id);
      const renderedItems = isObject(fanRun?.input) ? fanRun.input.items : undefined;
      if (Array.isArray(renderedItems)) sample = renderedItems[0];
      const path = typeof items === 'string' ? parseSimplePath(wholeRef(items) ?? '') : null;
      if (path) {
        const s = schemaAt(ctx, path);
        if (s?.type === 'array') itemSchema = s.items;
        if (sample === undefined) {
          const list = sampleAt(lastRun, path);
          if (Array.isArray(list)) sample = list[0];
        }
      } else if (Array.isArray(items) && sample === undefined) sample = items[0];
      const first = out.length;
      offer(w, itemSchema ?? { type: 'any' }, sample, 'item', 'Item', 1);
      if (out[first]) out[first].description = `The item of ${stepTitle(fanout, catalog)} being processed.`;
      add(w, { expr: 'index', label: 'Item index', group: 'Current item', type: 'integer', description: 'The position of the item in the list, from 0.' });
    }
  }

  // upstream steps
  if (ctx.stepId) {
    const ids = upstreamOf(workflow, ctx.stepId);
    const titles = new Map<string, string>();
    const count = new Map<string, number>();
    for (const id of ids) {
      const loc = findStep(workflow, id);
      if (!loc) continue;
      const t = stepTitle(loc.step, catalog);
      titles.set(id, t);
      count.set(t, (count.get(t) ?? 0) + 1);
    }
    for (const id of ids) {
      const loc = findStep(workflow, id);
      if (!loc) continue;
      const title = titles.get(id)!;
      const label = (count.get(title) ?? 0) > 1 ? `${title} (${id})` : title;
      const w: Walk = { out, seen, group: title === id ? id : `${title} (${id})` };
      const st = catalog.stepType(loc.step.type);
      const schema = st?.output;
      const sample = sampleOutput(lastRun, id);
      const c: RefChoice = {
        expr: member('steps', id),
        label,
        group: w.group,
        type: schema?.type && schema.type !== 'any' ? schema.type : sample !== undefined ? typeOfValue(sample) : schema?.type ?? 'any',
        description: schema?.description ?? `The output of ${title}.`,
      };
      if (sample !== undefined) c.sample = sample;
      add(w, c);
      walkFields(w, schema, sample, member('steps', id), label, 1);
    }
  }

  // the trigger
  {
    const tt = catalog.triggerType(workflow.trigger?.type);
    const w: Walk = { out, seen, group: 'Trigger' };
    const sample = lastRun?.trigger;
    add(w, {
      expr: 'trigger',
      label: 'Trigger',
      group: 'Trigger',
      type: 'object',
      description: tt?.data?.description ?? 'The data of the event that started the run.',
      ...(sample !== undefined ? { sample } : {}),
    });
    walkFields(w, tt?.data, sample, 'trigger', 'Trigger', 1);
  }

  // variables
  const vars = workflow.vars;
  if (isObject(vars)) {
    const w: Walk = { out, seen, group: 'Variables' };
    for (const [k, v] of Object.entries(vars)) {
      add(w, { expr: member('vars', k), label: `Variables > ${k}`, group: 'Variables', type: typeOfValue(v), sample: v, description: 'A variable of this workflow.' });
    }
  }

  // the run
  const rw: Walk = { out, seen, group: 'Run' };
  add(rw, { expr: 'run.id', label: 'Run > id', group: 'Run', type: 'string', description: 'The id of this run.', ...(lastRun ? { sample: lastRun.id } : {}) });
  add(rw, { expr: 'run.workflow_id', label: 'Run > workflow_id', group: 'Run', type: 'string', description: 'The id of this workflow.', ...(lastRun ? { sample: lastRun.workflow_id } : {}) });
  add(rw, {
    expr: 'run.started_at',
    label: 'Run > started_at',
    group: 'Run',
    type: 'string',
    description: 'When the run started (RFC 3339).',
    ...(lastRun?.started_at ? { sample: lastRun.started_at } : {}),
  });
  return out;
}

/**
 * The choices matching query (case-insensitive, on label and expression),
 * best first: exact, then prefix of the expression, then a field name
 * starting with the query, then anywhere. Every word of the query must match.
 */
export function filterChoices(choices: RefChoice[], query: string): RefChoice[] {
  const q = query.trim().toLowerCase();
  if (!q) return choices;
  const words = q.split(/\s+/);
  const scored: { c: RefChoice; score: number; i: number }[] = [];
  choices.forEach((c, i) => {
    const expr = c.expr.toLowerCase();
    const label = c.label.toLowerCase();
    const hay = `${expr} ${label} ${c.group.toLowerCase()}`;
    if (!words.every((wd) => hay.includes(wd))) return;
    const last = expr.split(/[.[\]]/).filter(Boolean).pop() ?? expr;
    let score: number;
    if (expr === q || label === q) score = 0;
    else if (expr.startsWith(q)) score = 1 + expr.length / 1000;
    else if (last === q) score = 2;
    else if (last.startsWith(q)) score = 3 + last.length / 1000;
    else if (label.split(/ > |\s+/).some((part) => part.startsWith(q))) score = 4;
    else if (expr.includes(q)) score = 5;
    else if (label.includes(q)) score = 6;
    else score = 7;
    scored.push({ c, score, i });
  });
  scored.sort((a, b) => a.score - b.score || a.i - b.i);
  return scored.map((s) => s.c);
}

// ------------------------------------------------------------- templates


/**
 * Splits text into literal and reference segments as the server does: \<<
 * is a literal "<<"; a ">>" inside a quoted string does not end a reference.
 * An unclosed "<<" gives a last segment with unterminated: true.
 */
export function parseTemplate(text: string): Segment[] {
  const segs: Segment[] = [];
  let lit = '';
  let litStart = 0;
  const flush = (end: number) => {
    if (lit) segs.push({ kind: 'text', text: lit, start: litStart, end });
    lit = '';
  };
  let i = 0;
  while (i < text.length) {
    const j = text.indexOf('<<', i);
    if (j < 0) {
      lit += text.slice(i);
      i = text.length;
      break;
    }
    if (j > 0 && text[j - 1] === '\\') {
      lit += text.slice(i, j - 1) + '<<';
      i = j + 2;
      continue;
    }
    lit += text.slice(i, j);
    flush(j);
    const k = referenceEnd(text, j + 2);
    if (k < 0) {
      const raw = text.slice(j + 2);
      segs.push({ kind: 'ref', expr: raw.trim(), raw, start: j, end: text.length, unterminated: true });
      litStart = text.length;
      return segs;
    }
    const raw = text.slice(j + 2, k);
    segs.push({ kind: 'ref', expr: raw.trim(), raw, start: j, end: k + 2 });
    i = k + 2;
    litStart = i;
  }
  flush(text.length);
  return segs;
}

/** The expression of a string that is exactly one reference, else null. */
export function wholeRef(text: string): string | null {
  const segs = parseTemplate(text);
  if (segs.length === 1 && segs[0].kind === 'ref' && !segs[0].unterminated && segs[0].start === 0 && segs[0].end === text.length) return segs[0].expr;
  return null;
}

/** ["steps", "opp", "phones", 0, "value"] for a pure member chain (optional ?. allowed), else null. */
export function parseSimplePath(expr: string): (string | number)[] | null {
  const m = /^[A-Za-z_]\w*/.exec(expr);
  if (!m) return null;
  const out: (string | number)[] = [m[0]];
  let i = m[0].length;
  while (i < expr.length) {
    const rest = expr.slice(i);
    let mm: RegExpExecArray | null;
    // a.b, a?.b, a[0], a?.[0], a["b"], a?.["b"] (steps?.opp reads as steps.opp)
    if ((mm = /^\??\.([A-Za-z_]\w*)/.exec(rest))) out.push(mm[1]);
    else if ((mm = /^(?:\?\.)?\[(\d+)\]/.exec(rest))) out.push(Number(mm[1]));
    else if ((mm = /^(?:\?\.)?\["((?:[^"\\]|\\.)*)"\]/.exec(rest))) out.push(JSON.parse(`"${mm[1]}"`) as string);
    else return null;
    i += mm[0].length;
  }
  return out;
}

/** Readable text for a reference: "Get Opportunity > name" for simple paths, else the expression. */
export function describeRef(expr: string, ctx: RefContext): string {
  const e = expr.trim();
  const path = parseSimplePath(e);
  if (!path) return e;
  const rest = (from: number) =>
    path
      .slice(from)
      .map((s) => (typeof s === 'number' ? `[${s}]` : ` > ${s}`))
      .join('');
  switch (path[0]) {
    case 'trigger':
      return 'Trigger' + rest(1);
    case 'item':
      return 'Item' + rest(1);
    case 'vars':
      return path.length > 1 ? 'Variables' + rest(1) : e;
    case 'run':
      return path.length > 1 ? 'Run' + rest(1) : e;
    case 'steps': {
      if (typeof path[1] !== 'string') return e;
      const loc = findStep(ctx.workflow, path[1]);
      if (!loc) return e;
      return stepTitle(loc.step, ctx.catalog) + rest(2);
    }
    default:
      return e;
  }
}

// --------------------------------------------------------------- checks

interface Token {
  kind: 'ident' | 'punct' | 'string' | 'number' | 'other';
  text: string;
  pos: number;
}

function tokenize(expr: string): { tokens: Token[]; problem?: string } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let k = i + 1;
      let closed = false;
      for (; k < expr.length; k++) {
        if (expr[k] === '\\' && c !== '`') k++;
        else if (expr[k] === c) {
          closed = true;
          break;
        }
      }
      if (!closed) return { tokens, problem: `a quote (${c}) is not closed: add the closing ${c}` };
      const raw = expr.slice(i, k + 1);
      let text = raw.slice(1, -1);
      if (c === '"') {
        try {
          text = JSON.parse(raw) as string;
        } catch {
          /* keep raw text */
        }
      }
      tokens.push({ kind: 'string', text, pos: i });
      i = k + 1;
      continue;
    }
    const id = /^[#$]?[A-Za-z_]\w*/.exec(expr.slice(i));
    if (id) {
      tokens.push({ kind: 'ident', text: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const num = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(expr.slice(i));
    if (num) {
      tokens.push({ kind: 'number', text: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const p = /^(\?\.|\?\?|\.\.|[()[\]{}.,:?])/.exec(expr.slice(i));
    if (p) {
      tokens.push({ kind: 'punct', text: p[0], pos: i });
      i += p[0].length;
      continue;
    }
    tokens.push({ kind: 'other', text: c, pos: i });
    i++;
  }
  return { tokens };
}

function checkBrackets(tokens: Token[]): string | undefined {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const names: Record<string, string> = { '(': 'parenthesis', '[': 'bracket', '{': 'brace' };
  const stack: string[] = [];
  for (const t of tokens) {
    if (t.kind !== 'punct') continue;
    if (t.text === '(' || t.text === '[' || t.text === '{') stack.push(t.text);
    else if (pairs[t.text]) {
      const open = stack.pop();
      if (open !== pairs[t.text]) {
        if (open === undefined) return `"${t.text}" has no matching "${pairs[t.text]}": remove it or add the opening "${pairs[t.text]}"`;
        return `unbalanced parentheses: "${open}" is closed by "${t.text}"`;
      }
    }
  }
  if (stack.length) {
    const open = stack[stack.length - 1];
    const close = Object.keys(pairs).find((k) => pairs[k] === open)!;
    return `unbalanced parentheses: an opening ${names[open]} "${open}" is not closed; add "${close}"`;
  }
  return undefined;
}

interface Chain {
  root: string;
  segs: (string | number)[];
  optional: boolean;
}

/** The member chains read from roots: steps.opp.name, trigger.x, item, ... */
function chains(tokens: Token[]): { chains: Chain[]; unknown: string[] } {
  const out: Chain[] = [];
  const unknown: string[] = [];
  const lets = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].kind === 'ident' && tokens[i].text === 'let' && tokens[i + 1]?.kind === 'ident') lets.add(tokens[i + 1].text);
  }
  const braces: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'punct' && (t.text === '{' || t.text === '(' || t.text === '[')) braces.push(t.text);
    if (t.kind === 'punct' && (t.text === '}' || t.text === ')' || t.text === ']')) braces.pop();
    if (t.kind !== 'ident') continue;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (prev && prev.kind === 'punct' && (prev.text === '.' || prev.text === '?.')) continue; // a member
    if (t.text.startsWith('#')) continue; // predicate variables
    if (next?.kind === 'punct' && next.text === ':' && braces[braces.length - 1] === '{' && prev?.kind === 'punct' && (prev.text === '{' || prev.text === ',')) continue; // a map key
    if (next?.kind === 'punct' && next.text === '(') continue; // a function call (expr reports unknown ones)
    if (BUILTINS.has(t.text) || lets.has(t.text)) continue;
    if (prev?.kind === 'ident' && prev.text === 'let') continue;
    if (!ROOTS.includes(t.text)) {
      unknown.push(t.text);
      continue;
    }
    const chain: Chain = { root: t.text, segs: [], optional: false };
    let k = i + 1;
    while (k < tokens.length) {
      const a = tokens[k];
      const b = tokens[k + 1];
      const c = tokens[k + 2];
      if (a.kind === 'punct' && (a.text === '.' || a.text === '?.') && b?.kind === 'ident') {
        if (a.text === '?.') chain.optional = true;
        chain.segs.push(b.text);
        k += 2;
      } else if (a.kind === 'punct' && a.text === '[' && b && (b.kind === 'number' || b.kind === 'string') && c?.kind === 'punct' && c.text === ']') {
        chain.segs.push(b.kind === 'number' ? Number(b.text) : b.text);
        k += 3;
      } else if (a.kind === 'punct' && a.text === '?.' && tokens[k + 1]?.text === '[') {
        chain.optional = true;
        k += 1;
      } else break;
    }
    // a chain followed by ?? is read leniently
    if (tokens[k]?.kind === 'punct' && tokens[k].text === '??') chain.optional = true;
    out.push(chain);
    i = k - 1;
  }
  return { chains: out, unknown };
}

function fieldNames(schema: Schema | undefined): string[] {
  return Object.keys(schema?.properties ?? {});
}

/** Checks the fields read after a root against its schema and the last run's values. */
function checkFields(schema: Schema | undefined, sample: unknown, base: string, segs: (string | number)[]): string | undefined {
  let s = schema;
  let v = sample;
  let where = base;
  for (const seg of segs) {
    if (typeof seg === 'number') {
      s = s?.type === 'array' ? s.items : undefined;
      v = Array.isArray(v) ? v[seg] : undefined;
      where += `[${seg}]`;
      continue;
    }
    const known = s?.type === 'object' && s.properties && s.additionalProperties !== true;
    const inSample = isObject(v) && seg in v;
    if (known && !(seg in s!.properties!) && !inSample) {
      const names = fieldNames(s);
      const guess = closest(seg, names);
      if (guess) return `no field "${seg}" in ${where}; did you mean "${guess}"?`;
      const list = names.slice(0, 8).join(', ') + (names.length > 8 ? ', ...' : '');
      return `no field "${seg}" in ${where}; its fields are ${list}`;
    }
    s = s?.properties?.[seg];
    v = isObject(v) ? v[seg] : undefined;
    where = member(where, seg);
    if (!s && v === undefined) return undefined;
  }
  return undefined;
}

function checkChain(chain: Chain, ctx: RefContext): string | undefined {
  const { workflow, catalog, stepId } = ctx;
  switch (chain.root) {
    case 'steps': {
      const id = chain.segs[0];
      if (typeof id !== 'string') return 'steps needs a step id after it, such as steps.opp.name';
      const loc = findStep(workflow, id);
      if (!loc) {
        const all = new Set<string>();
        const visit = (list: Step[] | undefined) => (list ?? []).forEach((s) => (all.add(s.id), visit(s.steps)));
        visit(workflow.steps);
        const guess = closest(id, all);
        return `steps.${id} is not a step of this workflow` + (guess ? `; did you mean steps.${guess}?` : ': use the id of a step connected before this one');
      }
      if (stepId === null) return `steps.${id} cannot be used here: the trigger's settings are read before any step runs`;
      if (id === stepId) return `steps.${id} is this step itself: a step can only read the output of steps that run before it`;
      if (!upstreamOf(workflow, stepId).includes(id)) return `steps.${id} is not upstream of this step: connect it before this step`;
      if (chain.optional) return undefined;
      return checkFields(catalog.stepType(loc.step.type)?.output, sampleOutput(ctx.lastRun, id), `steps.${id}`, chain.segs.slice(1));
    }
    case 'trigger': {
      if (chain.optional) return undefined;
      return checkFields(catalog.triggerType(workflow.trigger?.type)?.data, ctx.lastRun?.trigger, 'trigger', chain.segs);
    }
    case 'item':
    case 'index':
      if (!stepId || enclosingFanouts(workflow, stepId).length === 0) return `${chain.root} can only be used inside a For each step (fanout): move this step into one, or read the list directly`;
      return undefined;
    case 'vars': {
      const name = chain.segs[0];
      const vars = isObject(workflow.vars) ? workflow.vars : {};
      if (typeof name === 'string' && !(name in vars) && !chain.optional) {
        const guess = closest(name, Object.keys(vars));
        if (guess) return `no variable "${name}" in vars; did you mean "${guess}"?`;
        return `no variable "${name}" in vars: add it to the workflow's vars` + (Object.keys(vars).length ? ` or use one of ${Object.keys(vars).join(', ')}` : '');
      }
      return undefined;
    }
    case 'run': {
      const name = chain.segs[0];
      const known = ['id', 'workflow_id', 'started_at', 'version'];
      if (typeof name === 'string' && !known.includes(name)) {
        const guess = closest(name, known);
        return `no field "${name}" in run` + (guess ? `; did you mean "${guess}"?` : `; its fields are ${known.join(', ')}`);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The problems of the references in text, in plain English, as you type. */
export function checkTemplate(text: string, ctx: RefContext): string[] {
  const problems: string[] = [];
  for (const seg of parseTemplate(text)) {
    if (seg.kind !== 'ref') continue;
    const shown = `<<${seg.expr.length > 40 ? seg.expr.slice(0, 40) + '…' : seg.expr}`;
    if (seg.unterminated) {
      if (seg.raw.includes('>>')) {
        const q = tokenize(seg.raw).problem;
        problems.push(`${shown}: ${q ?? 'a quote is not closed'} before ">>"`);
      } else problems.push(`"${shown}" is not closed: add ">>" after the reference, or write \\<< for a literal "<<"`);
      continue;
    }
    if (seg.expr === '') {
      problems.push('"<<>>" is empty: write a reference between them, such as <<trigger.opportunityId>>, or remove it');
      continue;
    }
    const ref = `<<${seg.expr}>>`;
    const { tokens, problem } = tokenize(seg.expr);
    if (problem) {
      problems.push(`${ref}: ${problem}`);
      continue;
    }
    const bracket = checkBrackets(tokens);
    if (bracket) {
      problems.push(`${ref}: ${bracket}`);
      continue;
    }
    const { chains: cs, unknown } = chains(tokens);
    for (const u of unknown) {
      const guess = closest(u, ROOTS);
      problems.push(
        `"${u}" in ${ref} is not something a reference can read` +
          (guess ? `; did you mean "${guess}"?` : ': start with trigger, steps.<step id>, vars, run, item or index'),
      );
    }
    for (const c of cs) {
      const p = checkChain(c, ctx);
      if (p) problems.push(p);
    }
  }
  return [...new Set(problems)];
}

/**
 * The reference being typed before caret: the offset of its "<<" and the
 * text typed after it, or null when the caret is not inside an open one.
 */
export function openReference(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const segs = parseTemplate(before);
  const last = segs[segs.length - 1];
  if (last?.kind === 'ref' && last.unterminated) return { start: last.start, query: last.raw.trimStart() };
  return null;
}

/**
 * Inserts <<expr>> at caret, replacing the "<<query" being typed before it
 * (and a ">>" right after the caret closing it). Returns the new text and
 * the caret just after the inserted reference.
 */
export function insertReference(text: string, caret: number, expr: string): { text: string; caret: number } {
  const ref = `<<${expr}>>`;
  const open = openReference(text, caret);
  let start = caret;
  let end = caret;
  if (open) {
    start = open.start;
    const after = /^[\w.[\]"?]*\s*>>/.exec(text.slice(caret));
    if (after) end = caret + after[0].length;
  }
  return { text: text.slice(0, start) + ref + text.slice(end), caret: start + ref.length };
}
