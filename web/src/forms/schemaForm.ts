// The form model of a step's input: one field per property of the step
// type's input schema, with what the form needs to render it (label, kind,
// required marker, the current value) and path helpers that change a value
// by copying only the objects on the way, keeping key order, so a round trip
// through the form leaves the JSON as it was.
import type { Schema } from '../api/types';

export type FieldKind = 'text' | 'longtext' | 'number' | 'integer' | 'boolean' | 'enum' | 'list' | 'object' | 'json';

/** One segment of a path: an object key or a list index. */
export type PathSegment = string | number;

export interface FieldModel {
  /** The property name ("opportunity_id"), or "[0]" for a list item. */
  name: string;
  /** The full path: "input.opportunity_id", "input.value.name", "input.tags[0]". */
  path: string;
  /** The path relative to the form's value: ["tags", 0]. */
  segments: PathSegment[];
  label: string;
  description?: string;
  required: boolean;
  kind: FieldKind;
  enumValues?: unknown[];
  /** A list's item schema. */
  itemSchema?: Schema;
  /** An object's fields (schema properties, then extra keys), or a list's items. */
  children?: FieldModel[];
  value: unknown;
  sensitive: boolean;
  format?: string;
  example?: unknown;
  default?: unknown;
  /**
   * The value is a reference or other text where the schema wants a number,
   * boolean, choice, list or object: the form shows a text input for it.
   */
  isExpression?: boolean;
  /** An object that takes keys of the user's choosing (key/value pairs). */
  allowsExtraKeys?: boolean;
  /** For a key of an object not described by the schema: true. */
  extraKey?: boolean;
  /** The key is not an input of the step (the schema does not allow extra keys). */
  unknownKey?: boolean;
  /** The schema of this field, when known. */
  schema?: Schema;
}

const ACRONYMS: Record<string, string> = {
  id: 'ID',
  ids: 'IDs',
  url: 'URL',
  urls: 'URLs',
  uri: 'URI',
  http: 'HTTP',
  html: 'HTML',
  api: 'API',
  json: 'JSON',
  ip: 'IP',
  pii: 'PII',
  utc: 'UTC',
  eeo: 'EEO',
};

/** "opportunity_id" -> "Opportunity ID", "perform_as" -> "Perform as", "toStageId" -> "To stage ID". */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_\-.]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  if (words.length === 0) return name;
  return words
    .map((w, i) => ACRONYMS[w] ?? (i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join(' ');
}

/** Whether a value holds a reference (an unescaped "<<"). */
export function hasReference(value: unknown): value is string {
  return typeof value === 'string' && /(^|[^\\])<</.test(value);
}

const LONG_NAMES = /(^|_)(description|body|value|values|note|notes|content|message|html|template|comment|comments|text_html)(_|$)/i;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The kind of field a schema (and the property name) calls for. */
export function kindOf(schema: Schema | undefined, name = '', nested = false): FieldKind {
  if (!schema) return 'json';
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return 'enum';
  switch (schema.type) {
    case 'string':
      // a nested "value" (a phone number's) is short; a step's own value is not
      return schema.format === 'expression' || (LONG_NAMES.test(name) && !(nested && /^values?$/i.test(name))) ? 'longtext' : 'text';
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    case 'array':
      return 'list';
    case 'object':
      return 'object';
    default:
      return 'json';
  }
}

/** The kind for a value the schema does not describe (an extra key). */
function kindOfValue(v: unknown): FieldKind {
  if (v === undefined || typeof v === 'string') return 'text';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return 'json';
}

/** Appends a segment to a path string: "input" + "tags" -> "input.tags", + 0 -> "input.tags[0]". */
export function joinPath(base: string, seg: PathSegment): string {
  if (typeof seg === 'number') return `${base}[${seg}]`;
  const key = /^[A-Za-z_$][\w$-]*$/.test(seg) ? seg : JSON.stringify(seg);
  if (key !== seg) return `${base}[${key}]`;
  return base ? `${base}.${seg}` : seg;
}

/** Splits "input.tags[0].name" (or `a["odd.key"]`) into ["input", "tags", 0, "name"]. */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      i++;
      continue;
    }
    if (c === '[') {
      const end = path[i + 1] === '"' ? findQuoteEnd(path, i + 1) + 1 : path.indexOf(']', i);
      const inner = path.slice(i + 1, end < 0 ? path.length : end);
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else if (inner.startsWith('"')) {
        try {
          out.push(JSON.parse(inner) as string);
        } catch {
          out.push(inner);
        }
      } else out.push(inner);
      i = end < 0 ? path.length : end + 1;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    out.push(path.slice(i, j));
    i = j;
  }
  return out;
}

function findQuoteEnd(s: string, start: number): number {
  for (let k = start + 1; k < s.length; k++) {
    if (s[k] === '\\') k++;
    else if (s[k] === '"') return k;
  }
  return s.length;
}

function toSegments(path: string | PathSegment[]): PathSegment[] {
  return typeof path === 'string' ? parsePath(path) : path;
}

/** The value at path in obj, or undefined. */
export function getAtPath(obj: unknown, path: string | PathSegment[]): unknown {
  let cur: unknown = obj;
  for (const seg of toSegments(path)) {
    if (Array.isArray(cur) && typeof seg === 'number') cur = cur[seg];
    else if (isObject(cur) && typeof seg === 'string') cur = Object.prototype.hasOwnProperty.call(cur, seg) ? cur[seg] : undefined;
    else return undefined;
  }
  return cur;
}

/**
 * A copy of obj with value at path. Only the objects and lists on the way
 * are copied; keys keep their order (a new key goes last); missing objects
 * on the way are created (a list when the next segment is an index).
 */
export function setAtPath<T>(obj: T, path: string | PathSegment[], value: unknown): T {
  const segs = toSegments(path);
  if (segs.length === 0) return value as T;
  const [head, ...rest] = segs;
  if (typeof head === 'number') {
    const list = Array.isArray(obj) ? [...obj] : [];
    const current = Array.isArray(obj) ? obj[head] : undefined;
    while (list.length < head) list.push(null);
    list[head] = rest.length ? setAtPath(current, rest, value) : value;
    return list as T;
  }
  const base: Record<string, unknown> = isObject(obj) ? obj : {};
  const next = rest.length ? setAtPath(base[head], rest, value) : value;
  if (Object.prototype.hasOwnProperty.call(base, head) && base[head] === next) return obj;
  return { ...base, [head]: next } as T;
}

/** A copy of obj without the key (or list item) at path. */
export function removeAtPath<T>(obj: T, path: string | PathSegment[]): T {
  const segs = toSegments(path);
  if (segs.length === 0) return obj;
  const [head, ...rest] = segs;
  if (typeof head === 'number') {
    if (!Array.isArray(obj) || head >= obj.length) return obj;
    if (rest.length) {
      const inner = removeAtPath(obj[head], rest);
      if (inner === obj[head]) return obj;
      const list = [...obj];
      list[head] = inner;
      return list as T;
    }
    return obj.filter((_, i) => i !== head) as T;
  }
  if (!isObject(obj) || !Object.prototype.hasOwnProperty.call(obj, head)) return obj;
  if (rest.length) {
    const inner = removeAtPath(obj[head], rest);
    if (inner === obj[head]) return obj;
    return { ...obj, [head]: inner } as T;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k !== head) out[k] = v;
  return out as T;
}

/** Whether a value of kind can be shown as such, or needs the text (expression) input. */
function needsExpression(kind: FieldKind, value: unknown, enumValues?: unknown[]): boolean {
  if (typeof value !== 'string') return false;
  switch (kind) {
    case 'number':
    case 'integer':
      // the number input takes references itself; other text in it is a
      // number being typed (or a wrong value it shows with a warning)
      return hasReference(value);
    case 'boolean':
    case 'list':
    case 'object':
      return true;
    case 'enum':
      return hasReference(value) || (enumValues !== undefined && !enumValues.includes(value) && value !== '');
    case 'json':
      return true;
    default:
      return false;
  }
}

function fieldFor(
  name: string,
  schema: Schema | undefined,
  value: unknown,
  path: string,
  segments: PathSegment[],
  required: boolean,
  depth: number,
): FieldModel {
  const kind = kindOf(schema, name, depth > 0);
  const f: FieldModel = {
    name,
    path,
    segments,
    label: name.startsWith('[') ? `Item ${Number(name.slice(1, -1)) + 1}` : humanize(name),
    required,
    kind,
    value,
    sensitive: schema?.['x-sensitive'] === true,
    schema,
  };
  if (schema?.description) f.description = schema.description;
  if (schema?.format) f.format = schema.format;
  if (schema?.example !== undefined) f.example = schema.example;
  if (schema?.default !== undefined) f.default = schema.default;
  if (kind === 'enum') f.enumValues = schema?.enum;
  if (needsExpression(kind, value, f.enumValues)) f.isExpression = true;
  if (f.isExpression || depth > 8) return f;
  if (kind === 'list') {
    f.itemSchema = schema?.items;
    if (Array.isArray(value)) {
      f.children = value.map((item, i) =>
        fieldFor(`[${i}]`, schema?.items, item, joinPath(path, i), [...segments, i], false, depth + 1),
      );
    } else f.children = [];
  } else if (kind === 'object') {
    f.allowsExtraKeys = schema?.additionalProperties === true || !schema?.properties;
    f.children = objectFields(schema, value, path, segments, depth + 1);
  }
  return f;
}

function objectFields(schema: Schema | undefined, value: unknown, path: string, segments: PathSegment[], depth: number): FieldModel[] {
  const props = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  const names = Object.keys(props);
  // required first, then the schema's order (the server sends it sorted by name)
  const ordered = [...names.filter((n) => required.has(n)), ...names.filter((n) => !required.has(n))];
  const obj = isObject(value) ? value : {};
  const out = ordered.map((n) => fieldFor(n, props[n], obj[n], joinPath(path, n), [...segments, n], required.has(n), depth));
  const allowsExtra = schema?.additionalProperties === true || !schema?.properties;
  for (const [k, v] of Object.entries(obj)) {
    if (Object.prototype.hasOwnProperty.call(props, k)) continue;
    const f = fieldFor(k, undefined, v, joinPath(path, k), [...segments, k], false, depth);
    f.kind = kindOfValue(v);
    delete f.isExpression;
    f.label = k;
    f.extraKey = true;
    if (!allowsExtra) f.unknownKey = true;
    out.push(f);
  }
  return out;
}

/**
 * The fields of a form for schema (an object schema: a step type's input)
 * over value. opts.path is the path of value ("input" by default).
 */
export function fieldsFor(schema: Schema | undefined, value: unknown, opts: { path?: string } = {}): FieldModel[] {
  const path = opts.path ?? 'input';
  return objectFields(schema, value, path, [], 0);
}

/** An empty value for a new list item or a field switched back from an expression. */
export function emptyValue(schema: Schema | undefined): unknown {
  if (!schema) return '';
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  switch (schema.type) {
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const r of schema.required ?? []) out[r] = emptyValue(schema.properties?.[r]);
      return out;
    }
    default:
      return '';
  }
}

/** Reads typed text as a number field's value: a number, or the text as is (an expression). */
export function parseNumberText(text: string, integer: boolean): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t)) {
    const n = Number(t);
    if (!integer || Number.isInteger(n)) return n;
  }
  return text;
}

/** What typing text in a number field does to the value. */
export type NumberEdit = { kind: 'set'; value: number | string } | { kind: 'remove' } | { kind: 'keep' };

/**
 * What typed text makes of a number or integer field: a number sets it, a
 * reference sets the text; empty text removes the key (a required one too:
 * the server then says it is required) unless it cannot go (a list item:
 * opts.canRemove false); anything else ("-", "1.", "abc") is kept in the
 * input only, the value stays as it was, until it reads as a number. With
 * opts.freeText (a key no schema describes) any text is stored as text.
 */
export function numberEdit(text: string, integer: boolean, opts: { canRemove: boolean; freeText?: boolean }): NumberEdit {
  const n = parseNumberText(text, integer);
  if (n === undefined) return opts.canRemove ? { kind: 'remove' } : { kind: 'keep' };
  if (typeof n === 'number') return { kind: 'set', value: n };
  if (hasReference(text) || opts.freeText) return { kind: 'set', value: text };
  return { kind: 'keep' };
}
