// A text input (or textarea) that knows << references >>: typing "<<"
// opens a menu of what this place may read (upstream step outputs, the
// trigger, the fanout's item, vars, run), filtered by what follows; the
// references in the value show below as readable chips, and their problems
// as you type.
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import {
  checkTemplate,
  describeRef,
  filterChoices,
  insertReference,
  openReference,
  parseTemplate,
  referenceChoices,
  type RefChoice,
  type RefContext,
} from './choices';
import './refs.css';

export interface RefInputProps {
  id: string;
  value: string;
  onChange(v: string): void;
  refs: RefContext;
  multiline?: boolean;
  placeholder?: string;
  ariaLabel?: string;
  ariaDescribedBy?: string;
  invalid?: boolean;
  /** Sets aria-required. */
  required?: boolean;
  testId?: string;
}

const MAX_OPTIONS = 200;

/** A value shown in the menu: short, on one line. */
export function formatSample(v: unknown, max = 40): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v);
  else if (v === undefined) return '';
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

interface Menu {
  /** What is typed after "<<" (empty when opened by the button). */
  query: string;
  /** Opened by the button (stays open without a "<<"). */
  forced: boolean;
}

/** Groups choices, groups in the order of their best match, keeping the order inside each. */
function grouped(choices: RefChoice[]): { group: string; items: RefChoice[] }[] {
  const groups = new Map<string, RefChoice[]>();
  for (const c of choices) {
    const list = groups.get(c.group);
    if (list) list.push(c);
    else groups.set(c.group, [c]);
  }
  return [...groups].map(([group, items]) => ({ group, items }));
}

export function RefInput(props: RefInputProps) {
  const { id, value, onChange, refs, multiline, placeholder, ariaLabel, ariaDescribedBy, invalid, required, testId } = props;
  const inputRef = useRef<HTMLInputElement | HTMLTextAreaElement | null>(null);
  const [menu, setMenu] = useState<Menu | null>(null);
  const [active, setActive] = useState(0);
  /** The start of the "<<" whose menu was closed with Escape: not reopened while typing it. */
  const dismissed = useRef<number | null>(null);
  const pending = useRef<{ text: string; caret: number } | null>(null);
  const listId = `${id}-refs`;
  const problemsId = `${id}-ref-problems`;

  const { workflow, stepId, catalog, lastRun } = refs;
  const ctx = useMemo<RefContext>(() => ({ workflow, stepId, catalog, lastRun }), [workflow, stepId, catalog, lastRun]);
  const open = menu !== null;
  // The choices are worked out when the menu opens: while it is open only
  // this field changes, which offers nothing new (and a large workflow
  // would otherwise pay for them at every keystroke).
  const openCtx = useRef<RefContext | null>(null);
  if (!open) openCtx.current = null;
  else if (!openCtx.current || openCtx.current.stepId !== ctx.stepId || openCtx.current.lastRun !== ctx.lastRun) openCtx.current = ctx;
  const snapshot = openCtx.current;
  const choices = useMemo(() => (snapshot ? referenceChoices(snapshot) : []), [snapshot]);
  const groups = useMemo(() => (menu ? grouped(filterChoices(choices, menu.query).slice(0, MAX_OPTIONS)) : []), [choices, menu]);
  const flat = useMemo(() => groups.flatMap((g) => g.items), [groups]);
  const optionId = (i: number) => `${id}-ref-opt-${i}`.replace(/[^\w-]/g, '_');

  // problems as you type, a moment after the last keystroke
  const [problems, setProblems] = useState<string[]>([]);
  useEffect(() => {
    const t = setTimeout(() => setProblems(value.includes('<<') ? checkTemplate(value, ctx) : []), 150);
    return () => clearTimeout(t);
  }, [value, ctx]);

  // the caret after an inserted reference, once the new value is in
  useLayoutEffect(() => {
    const p = pending.current;
    const el = inputRef.current;
    if (p && el && el.value === p.text) {
      el.focus();
      el.setSelectionRange(p.caret, p.caret);
      pending.current = null;
    }
  });

  useEffect(() => {
    if (open) document.getElementById(optionId(active))?.scrollIntoView?.({ block: 'nearest' });
  }, [active, open]);

  /** Opens, filters or closes the menu from the text before the caret. */
  const sync = (text: string, caret: number, forced = menu?.forced ?? false) => {
    const ref = openReference(text, caret);
    if (ref && ref.start === dismissed.current) {
      setMenu(null);
      return;
    }
    if (!ref) dismissed.current = null;
    if (ref || forced) {
      const query = ref?.query ?? '';
      if (!menu || menu.query !== query || menu.forced !== forced) setActive(0);
      setMenu({ query, forced });
    } else setMenu(null);
  };

  const choose = (c: RefChoice) => {
    const el = inputRef.current;
    const caret = el?.selectionStart ?? value.length;
    const r = insertReference(value, caret, c.expr);
    pending.current = r;
    dismissed.current = null;
    setMenu(null);
    onChange(r.text);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement | HTMLTextAreaElement>) => {
    if (!open) {
      if (e.key === ' ' && e.ctrlKey) {
        e.preventDefault();
        setActive(0);
        setMenu({ query: openReference(value, e.currentTarget.selectionStart ?? value.length)?.query ?? '', forced: true });
      }
      return;
    }
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        setActive((a) => (flat.length ? (a + 1) % flat.length : 0));
        break;
      case 'ArrowUp':
        e.preventDefault();
        setActive((a) => (flat.length ? (a - 1 + flat.length) % flat.length : 0));
        break;
      case 'Home':
      case 'End':
        if (e.ctrlKey) {
          e.preventDefault();
          setActive(e.key === 'Home' ? 0 : Math.max(0, flat.length - 1));
        }
        break;
      case 'Enter':
        if (flat[active]) {
          e.preventDefault();
          choose(flat[active]);
        } else if (!multiline) e.preventDefault();
        break;
      case 'Tab':
        // Tab moves focus as everywhere else (Enter chooses): the menu
        // closes and stays closed for this "<<".
        dismissed.current = openReference(value, e.currentTarget.selectionStart ?? value.length)?.start ?? null;
        setMenu(null);
        break;
      case 'Escape':
        e.preventDefault();
        e.stopPropagation();
        dismissed.current = openReference(value, e.currentTarget.selectionStart ?? value.length)?.start ?? null;
        setMenu(null);
        break;
    }
  };

  const common = {
    id,
    value,
    placeholder,
    role: 'combobox' as const,
    'aria-label': ariaLabel,
    'aria-describedby': [ariaDescribedBy, problems.length ? problemsId : ''].filter(Boolean).join(' ') || undefined,
    'aria-invalid': invalid || problems.length > 0 ? true : undefined,
    'aria-required': required || undefined,
    'aria-expanded': open,
    'aria-controls': listId,
    'aria-autocomplete': 'list' as const,
    'aria-haspopup': 'listbox' as const,
    'aria-activedescendant': open && flat[active] ? optionId(active) : undefined,
    'data-testid': testId,
    autoComplete: 'off',
    spellCheck: false,
    onKeyDown,
    onChange: (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => {
      const el = e.currentTarget;
      onChange(el.value);
      sync(el.value, el.selectionStart ?? el.value.length);
    },
    onKeyUp: (e: KeyboardEvent<HTMLInputElement | HTMLTextAreaElement>) => {
      if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) && !e.ctrlKey) {
        const el = e.currentTarget;
        sync(el.value, el.selectionStart ?? el.value.length);
      }
    },
    onClick: (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => {
      const el = e.currentTarget;
      sync(el.value, el.selectionStart ?? el.value.length);
    },
    onBlur: () => setMenu(null),
  };

  const chips = parseTemplate(value).filter((s) => s.kind === 'ref' && !s.unterminated && s.expr !== '');
  let index = -1;

  return (
    <div className={'ref-input' + (multiline ? ' multiline' : '')}>
      <div className="ref-input-box">
        {multiline ? (
          <textarea {...common} ref={(el) => void (inputRef.current = el)} rows={3} />
        ) : (
          <input {...common} ref={(el) => void (inputRef.current = el)} type="text" />
        )}
        <button
          type="button"
          className="ref-insert"
          aria-label="Insert reference"
          title="Insert a reference to the trigger or an earlier step (or type <<)"
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => {
            const el = inputRef.current;
            el?.focus();
            if (open) {
              setMenu(null);
              return;
            }
            setActive(0);
            setMenu({ query: el ? openReference(el.value, el.selectionStart ?? el.value.length)?.query ?? '' : '', forced: true });
          }}
        >
          {'<<'}
        </button>
      </div>
      <div id={listId} role="listbox" className="ref-menu" aria-label="References" hidden={!open}>
        {open && flat.length === 0 && (
          <div className="ref-empty">
            {choices.length === 0 ? 'Nothing to reference here yet.' : `Nothing matches “${menu?.query}”.`}
            {' '}Connect a step before this one to read its output.
          </div>
        )}
        {open &&
          groups.map((g) => (
            <div role="group" key={g.group} aria-labelledby={`${listId}-g-${g.group}`.replace(/[^\w-]/g, '_')}>
              <div className="ref-group" role="presentation" id={`${listId}-g-${g.group}`.replace(/[^\w-]/g, '_')}>
                {g.group}
              </div>
              {g.items.map((c) => {
                index++;
                const i = index;
                return (
                  <div
                    key={c.expr}
                    id={optionId(i)}
                    role="option"
                    aria-selected={i === active}
                    className={'ref-option' + (i === active ? ' active' : '')}
                    data-testid={`ref-option-${c.expr}`}
                    title={c.description ? `${c.expr}: ${c.description}` : c.expr}
                    onMouseDown={(e) => e.preventDefault()}
                    onMouseEnter={() => setActive(i)}
                    onClick={() => choose(c)}
                  >
                    <span className="ref-label">{c.label}</span>
                    <span className="ref-type">{c.type}</span>
                    {c.sample !== undefined && <span className="ref-sample">{formatSample(c.sample)}</span>}
                  </div>
                );
              })}
            </div>
          ))}
      </div>
      {chips.length > 0 && (
        <div className="ref-chips" aria-label="References in this value">
          {chips.map((s, i) =>
            s.kind === 'ref' ? (
              <span key={i} className="ref-chip" data-testid="ref-chip" title={s.expr}>
                {describeRef(s.expr, ctx)}
              </span>
            ) : null,
          )}
        </div>
      )}
      {problems.length > 0 && (
        <div id={problemsId} className="ref-problems">
          {problems.map((p) => (
            <div key={p} className="ref-problem" data-testid="ref-problem">
              {p}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
