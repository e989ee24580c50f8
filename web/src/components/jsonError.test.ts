import { describe, expect, it } from 'vitest';
import { jsonSyntaxError } from './jsonError';

describe('jsonSyntaxError', () => {
  it.each([
    ['{"a": 1}', ''],
    ['[1, 2.5e3, -0, "x\\n\\u00e9", true, false, null, {}]', ''],
    ['{"name": "x", "steps": [}', 'line 1, column 25: expected a value, found "}"'],
    ['{\n  "a": 1,\n}', 'line 3, column 1: a comma before "}": remove it'],
    ['[1, 2,]', 'line 1, column 7: a comma before "]": remove it'],
    ['{"a" 1}', 'line 1, column 6: expected ":" after the field name, found "1"'],
    ["{'a': 1}", 'line 1, column 2: expected a field name in double quotes, found "\'"'],
    ['{"a": \'x\'}', 'line 1, column 7: strings take double quotes ("), not single ones'],
    ['{"a": "open', 'line 1, column 12: a string is not closed: add the closing "'],
    ['{"a": 1} x', 'line 1, column 10: unexpected "x" after the value'],
    ['', 'line 1, column 1: expected a value, found the end of the text'],
    ['{"a": tru}', 'line 1, column 7: expected a value, found "t"'],
  ])('%j', (text, want) => {
    expect(jsonSyntaxError(text)).toBe(want);
    expect(want === '').toBe((() => { try { JSON.parse(text); return true; } catch { return false; } })());
  });
});
