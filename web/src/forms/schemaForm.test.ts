import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Schema, StepType, TriggerType } from '../api/types';
import { fieldsFor, getAtPath, humanize, numberEdit, parseNumberText, parsePath, removeAtPath, setAtPath, type FieldModel } from './schemaForm';

const here = dirname(fileURLToPath(import.meta.url));
const stepTypes = (JSON.parse(readFileSync(join(here, 'testdata/step-types.json'), 'utf8')) as { step_types: StepType[] }).step_types;
const triggerTypes = (JSON.parse(readFileSync(join(here, 'testdata/trigger-types.json'), 'utf8')) as { trigger_types: TriggerType[] }).trigger_types;

function input(type: string): Schema {
  const t = stepTypes.find((s) => s.type === type);
  if (!t?.input) throw new Error(`no step type ${type} in the catalog sample`);
  return t.input;
}

function field(fields: FieldModel[], path: string): FieldModel {
  const walk = (list: FieldModel[]): FieldModel | undefined => {
    for (const f of list) {
      if (f.path === path) return f;
      const inner = f.children && walk(f.children);
      if (inner) return inner;
    }
    return undefined;
  };
  const f = walk(fields);
  if (!f) throw new Error(`no field ${path} in ${fields.map((x) => x.path).join(', ')}`);
  return f;
}

describe('fieldsFor over the real catalog', () => {
  it('gives every step type a field per input property', () => {
    for (const st of stepTypes) {
      const fields = fieldsFor(st.input, {});
      expect(fields.map((f) => f.name).sort(), st.type).toEqual(Object.keys(st.input?.properties ?? {}).sort());
      for (const f of fields) expect(f.label, `${st.type}.${f.name}`).not.toBe('');
    }
  });

  it.each([
    ['lever.add_opportunity_tags', ['opportunity_id', 'tags'], ['perform_as']],
    ['lever.archive_opportunity', ['opportunity_id', 'reason_id'], ['clean_interviews', 'perform_as', 'requisition_id']],
    ['http.request', ['url'], ['body', 'headers', 'method', 'query', 'timeout']],
    ['condition', ['if'], []],
    ['delay', [], ['for', 'until']],
  ])('%s: required fields first, marked', (type, required, optional) => {
    const fields = fieldsFor(input(type), {});
    expect(fields.map((f) => f.name)).toEqual([...required, ...optional]);
    for (const f of fields) expect(f.required, f.name).toBe(required.includes(f.name));
  });

  it.each([
    ['lever.add_opportunity_tags', 'opportunity_id', 'text'],
    ['lever.add_opportunity_tags', 'tags', 'list'],
    ['http.request', 'method', 'enum'],
    ['http.request', 'body', 'json'],
    ['http.request', 'headers', 'object'],
    ['http.request', 'url', 'text'],
    ['lever.archive_opportunity', 'clean_interviews', 'boolean'],
    ['fanout', 'concurrency', 'integer'],
    ['fanout', 'items', 'list'],
    ['condition', 'if', 'boolean'],
    ['transform', 'value', 'json'],
    ['lever.create_posting', 'description_html', 'longtext'],
    ['lever.create_posting', 'salary_range', 'object'],
    ['lever.create_posting', 'state', 'enum'],
    ['lever.get_opportunities', 'tag', 'json'],
  ])('%s.%s is a %s field', (type, name, kind) => {
    expect(field(fieldsFor(input(type), {}), `input.${name}`).kind).toBe(kind);
  });

  it('a number field of a nested object', () => {
    const f = field(fieldsFor(input('lever.create_posting'), { salary_range: { min: 1 } }), 'input.salary_range.min');
    expect(f.kind).toBe('number');
    expect(f.required).toBe(true);
    expect(f.value).toBe(1);
  });

  it('enum -> select with the values', () => {
    const f = field(fieldsFor(input('http.request'), {}), 'input.method');
    expect(f.enumValues).toEqual(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
    expect(f.required).toBe(false);
  });

  it('boolean -> switch with its value', () => {
    const f = field(fieldsFor(input('lever.archive_opportunity'), { clean_interviews: true }), 'input.clean_interviews');
    expect(f.kind).toBe('boolean');
    expect(f.value).toBe(true);
    expect(f.isExpression).toBeUndefined();
  });

  it('a list of strings: one item per value', () => {
    const f = field(fieldsFor(input('lever.add_opportunity_tags'), { tags: ['senior', '<<steps.opp.name>>'] }), 'input.tags');
    expect(f.itemSchema?.type).toBe('string');
    expect(f.children?.map((c) => [c.path, c.kind, c.value])).toEqual([
      ['input.tags[0]', 'text', 'senior'],
      ['input.tags[1]', 'text', '<<steps.opp.name>>'],
    ]);
    expect(f.children?.[0].segments).toEqual(['tags', 0]);
  });

  it('a list of objects: each item a sub-form', () => {
    const f = field(fieldsFor(input('lever.create_opportunity'), { phones: [{ value: '+1 555', type: 'work' }] }), 'input.phones');
    expect(f.kind).toBe('list');
    const item = f.children![0];
    expect(item.kind).toBe('object');
    expect(item.label).toBe('Item 1');
    expect(item.children?.map((c) => [c.path, c.kind, c.required])).toEqual([
      ['input.phones[0].value', 'text', true],
      ['input.phones[0].type', 'enum', false],
    ]);
  });

  it('the cases of a switch: a list of objects with a boolean', () => {
    const f = field(fieldsFor(input('switch'), { cases: [{ name: 'offer', if: '<<steps.opp.stage == "offer">>' }] }), 'input.cases');
    const iff = field(f.children!, 'input.cases[0].if');
    expect(iff.kind).toBe('boolean');
    expect(iff.isExpression).toBe(true);
    expect(field(f.children!, 'input.cases[0].name').value).toBe('offer');
  });

  it('objects with additionalProperties take key/value pairs, kept in order', () => {
    const f = field(fieldsFor(input('http.request'), { headers: { 'X-Api-Key': 'k', Accept: 'application/json' } }), 'input.headers');
    expect(f.allowsExtraKeys).toBe(true);
    expect(f.children?.map((c) => [c.name, c.path, c.extraKey, c.kind])).toEqual([
      ['X-Api-Key', 'input.headers.X-Api-Key', true, 'text'],
      ['Accept', 'input.headers.Accept', true, 'text'],
    ]);
  });

  it('a nested object without extra keys', () => {
    const f = field(fieldsFor(input('lever.create_posting'), {}), 'input.salary_range');
    expect(f.allowsExtraKeys).toBe(false);
    expect(f.children?.map((c) => c.name)).toEqual(['currency', 'interval', 'max', 'min']);
  });

  it('keys the schema does not know are kept and flagged', () => {
    const fields = fieldsFor(input('condition'), { if: true, unless: 'x' });
    expect(fields.map((f) => [f.name, f.unknownKey ?? false])).toEqual([
      ['if', false],
      ['unless', true],
    ]);
  });

  it.each([
    ['fanout', 'items', '<<trigger.candidates>>', 'list'],
    ['fanout', 'concurrency', '<<vars.concurrency>>', 'integer'],
    ['condition', 'if', "<<'Senior' in steps.opp.headline>>", 'boolean'],
    ['http.request', 'method', '<<trigger.method>>', 'enum'],
    ['lever.create_posting', 'salary_range', '<<steps.old.salaryRange>>', 'object'],
  ])('%s.%s holding a reference stays a %s field shown as an expression', (type, name, value, kind) => {
    const f = field(fieldsFor(input(type), { [name]: value }), `input.${name}`);
    expect(f.kind).toBe(kind);
    expect(f.isExpression).toBe(true);
    expect(f.value).toBe(value);
    expect(f.children).toBeUndefined();
  });

  it('a text field holding a reference is just text', () => {
    const f = field(fieldsFor(input('lever.get_opportunity'), { opportunity_id: '<<trigger.opportunityId>>' }), 'input.opportunity_id');
    expect(f.kind).toBe('text');
    expect(f.isExpression).toBeUndefined();
  });

  it('an enum value from the list is not an expression', () => {
    expect(field(fieldsFor(input('http.request'), { method: 'POST' }), 'input.method').isExpression).toBeUndefined();
  });

  it('takes a base path', () => {
    const td = triggerTypes.find((t) => t.type === 'schedule')!.data;
    const fields = fieldsFor(td, {}, { path: 'trigger' });
    expect(fields.map((f) => f.path)).toEqual(['trigger.cron', 'trigger.timezone', 'trigger.triggered_at']);
    expect(fields.every((f) => f.required)).toBe(true);
  });

  it('carries description, format, example and sensitivity', () => {
    const f = field(fieldsFor(input('delay'), {}), 'input.for');
    expect(f.format).toBe('duration');
    expect(f.example).toBe('24h');
    expect(f.description).toMatch(/How long to wait/);
    expect(f.sensitive).toBe(false);
    const secret = fieldsFor({ type: 'object', properties: { token: { type: 'string', 'x-sensitive': true } } }, {});
    expect(secret[0].sensitive).toBe(true);
  });

  it('an empty or missing schema gives the value’s keys as extra fields', () => {
    expect(fieldsFor(undefined, { a: 1, b: 'x' }).map((f) => [f.name, f.kind])).toEqual([
      ['a', 'integer'],
      ['b', 'text'],
    ]);
  });
});

describe('humanize', () => {
  it.each([
    ['opportunity_id', 'Opportunity ID'],
    ['perform_as', 'Perform as'],
    ['perform_as_posting_owner', 'Perform as posting owner'],
    ['toStageId', 'To stage ID'],
    ['description_html', 'Description HTML'],
    ['url', 'URL'],
    ['if', 'If'],
    ['max_items', 'Max items'],
    ['follower_ids', 'Follower IDs'],
  ])('%s -> %s', (name, label) => expect(humanize(name)).toBe(label));

  it('labels fields', () => {
    const fields = fieldsFor(input('lever.add_opportunity_tags'), {});
    expect(fields.map((f) => f.label)).toEqual(['Opportunity ID', 'Tags', 'Perform as']);
  });
});

describe('paths', () => {
  it('parses paths', () => {
    expect(parsePath('input.tags[0].name')).toEqual(['input', 'tags', 0, 'name']);
    expect(parsePath('headers["a.b"]')).toEqual(['headers', 'a.b']);
  });

  it('setAtPath preserves key order and untouched fields', () => {
    const before = { opportunity_id: 'x', tags: ['a', 'b'], nested: { keep: { deep: 1 }, change: 1 }, last: true };
    const after = setAtPath(before, 'nested.change', 2);
    expect(Object.keys(after)).toEqual(['opportunity_id', 'tags', 'nested', 'last']);
    expect(Object.keys(after.nested)).toEqual(['keep', 'change']);
    expect(after.nested.change).toBe(2);
    expect(after.tags).toBe(before.tags); // untouched branches are shared
    expect(after.nested.keep).toBe(before.nested.keep);
    expect(before.nested.change).toBe(1); // not mutated
    expect(JSON.stringify(setAtPath(before, 'opportunity_id', 'y'))).toBe(JSON.stringify({ ...before, opportunity_id: 'y' }));
  });

  it('setAtPath on lists and missing objects', () => {
    expect(setAtPath({ tags: ['a', 'b'] }, 'tags[1]', 'c')).toEqual({ tags: ['a', 'c'] });
    expect(setAtPath({}, 'a.b[0].c', 1)).toEqual({ a: { b: [{ c: 1 }] } });
    expect(setAtPath({ a: 1 }, ['b'], 2)).toEqual({ a: 1, b: 2 });
    const same = { a: 1 };
    expect(setAtPath(same, 'a', 1)).toBe(same);
  });

  it('getAtPath and removeAtPath', () => {
    const v = { a: { b: [1, { c: 'x' }] }, z: 0 };
    expect(getAtPath(v, 'a.b[1].c')).toBe('x');
    expect(getAtPath(v, 'a.nope.c')).toBeUndefined();
    expect(removeAtPath(v, 'a.b[0]')).toEqual({ a: { b: [{ c: 'x' }] }, z: 0 });
    const r = removeAtPath({ x: 1, y: 2, z: 3 }, 'y');
    expect(Object.keys(r)).toEqual(['x', 'z']);
    expect(removeAtPath(v, 'nope')).toBe(v);
  });

  it('reads typed numbers', () => {
    expect(parseNumberText('5', true)).toBe(5);
    expect(parseNumberText('2.5', false)).toBe(2.5);
    expect(parseNumberText('2.5', true)).toBe('2.5');
    expect(parseNumberText('<<vars.n>>', true)).toBe('<<vars.n>>');
    expect(parseNumberText('  ', true)).toBeUndefined();
  });
});

describe('number fields', () => {
  it.each(['45', '-', '1.', 'abc', ''])('%j in an integer field keeps the number input (no expression)', (v) => {
    const f = field(fieldsFor(input('fanout'), { concurrency: v }), 'input.concurrency');
    expect(f.kind).toBe('integer');
    expect(f.isExpression).toBeUndefined();
  });

  it('a reference in an integer field is an expression', () => {
    expect(field(fieldsFor(input('fanout'), { concurrency: '<<vars.n>>' }), 'input.concurrency').isExpression).toBe(true);
    expect(field(fieldsFor(input('fanout'), { concurrency: 'at most <<vars.n>>' }), 'input.concurrency').isExpression).toBe(true);
  });

  it('numberEdit stores numbers and references, never partial text', () => {
    const field = { canRemove: true };
    expect(numberEdit('45', true, field)).toEqual({ kind: 'set', value: 45 });
    expect(numberEdit('-3', true, field)).toEqual({ kind: 'set', value: -3 });
    expect(numberEdit('2.5', false, field)).toEqual({ kind: 'set', value: 2.5 });
    expect(numberEdit('<<vars.n>>', true, field)).toEqual({ kind: 'set', value: '<<vars.n>>' });
    expect(numberEdit('<<', true, field)).toEqual({ kind: 'set', value: '<<' });
    for (const partial of ['-', '1.', '2.5', 'abc', '1e']) {
      expect(numberEdit(partial, true, field)).toEqual({ kind: 'keep' });
    }
    expect(numberEdit('1.', false, field)).toEqual({ kind: 'keep' });
  });

  it('numberEdit: empty removes the key (required or not), a list item stays', () => {
    expect(numberEdit('', true, { canRemove: true })).toEqual({ kind: 'remove' });
    expect(numberEdit('  ', false, { canRemove: true })).toEqual({ kind: 'remove' });
    expect(numberEdit('', true, { canRemove: false })).toEqual({ kind: 'keep' });
  });

  it('numberEdit: a key no schema describes takes any text', () => {
    expect(numberEdit('abc', true, { canRemove: true, freeText: true })).toEqual({ kind: 'set', value: 'abc' });
    expect(numberEdit('7', true, { canRemove: true, freeText: true })).toEqual({ kind: 'set', value: 7 });
  });
});
