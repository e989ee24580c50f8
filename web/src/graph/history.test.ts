import { describe, expect, it } from 'vitest';
import { History, HISTORY_LIMIT } from './history';

describe('History', () => {
  it('pushes, undoes and redoes', () => {
    let h = History.of(1);
    expect(h.canUndo).toBe(false);
    expect(h.canRedo).toBe(false);
    h = h.push(2).push(3);
    expect(h.present).toBe(3);
    expect(h.canUndo).toBe(true);
    h = h.undo();
    expect(h.present).toBe(2);
    expect(h.canRedo).toBe(true);
    h = h.undo();
    expect(h.present).toBe(1);
    expect(h.canUndo).toBe(false);
    expect(h.undo()).toBe(h);
    h = h.redo().redo();
    expect(h.present).toBe(3);
    expect(h.canRedo).toBe(false);
    expect(h.redo()).toBe(h);
  });

  it('a push after an undo drops the redo list', () => {
    const h = History.of('a').push('b').push('c').undo().push('d');
    expect(h.present).toBe('d');
    expect(h.canRedo).toBe(false);
    expect(h.undo().present).toBe('b');
  });

  it('pushing the present changes nothing', () => {
    const o = { x: 1 };
    const h = History.of(o);
    expect(h.push(o)).toBe(h);
  });

  it('merges consecutive pushes with the same key into one entry', () => {
    let h = History.of(0).push(1);
    h = h.push(2, 'move:a').push(3, 'move:a').push(4, 'move:a');
    expect(h.present).toBe(4);
    expect(h.past).toEqual([0, 1]);
    expect(h.undo().present).toBe(1);
    // another key starts a new entry
    h = h.push(5, 'move:b');
    expect(h.past).toEqual([0, 1, 4]);
    // a push without a key too, and it ends the merge
    h = h.push(6).push(7, 'move:b');
    expect(h.past).toEqual([0, 1, 4, 5, 6]);
  });

  it('an undo ends the merge run', () => {
    let h = History.of(0).push(1, 'field:x').push(2, 'field:x');
    h = h.undo();
    expect(h.present).toBe(0);
    h = h.redo().push(3, 'field:x');
    expect(h.past).toEqual([0, 2]);
    expect(h.seal().push(4, 'field:x').past).toEqual([0, 2, 3]);
  });

  it(`keeps at most ${HISTORY_LIMIT} undo steps`, () => {
    let h = History.of(0);
    for (let i = 1; i <= 150; i++) h = h.push(i);
    expect(h.past).toHaveLength(HISTORY_LIMIT);
    expect(h.past[0]).toBe(50);
    let n = 0;
    while (h.canUndo) {
      h = h.undo();
      n++;
    }
    expect(n).toBe(HISTORY_LIMIT);
    expect(h.present).toBe(50);
    expect(History.of(0, 2).push(1).push(2).push(3).past).toEqual([1, 2]);
  });

  it('reset forgets everything', () => {
    const h = History.of(1).push(2).push(3).undo().reset(9);
    expect(h.present).toBe(9);
    expect(h.canUndo || h.canRedo).toBe(false);
  });
});
