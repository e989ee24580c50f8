// The step palette: the catalog's step types grouped by category, to drag
// onto the canvas or add with a click (or Enter/Space), and the trigger
// types to pick the workflow's trigger. Arrow keys move between items.
import { useId, useMemo, useState, type DragEvent, type KeyboardEvent, type ReactNode } from 'react';
import type { StepType, TriggerType } from '../api/types';
import { useCatalog } from '../catalog';
import { STEP_DND_TYPE } from '../graph/mapping';
import { StepIcon } from './icons';
import './palette.css';

export interface PaletteProps {
  onAdd: (type: string) => void;
  onSetTrigger: (type: string) => void;
  triggerType?: string;
}

const CATEGORY_ORDER = ['Lever', 'Logic', 'HTTP', 'Timing'];

function matches(query: string, t: { type: string; title: string; description: string; category: string }): boolean {
  if (!query) return true;
  const hay = `${t.title} ${t.type} ${t.category} ${t.description}`.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

/** Step types by category: Lever, Logic, HTTP, Timing, then the others by name. */
export function groupStepTypes(types: StepType[]): [string, StepType[]][] {
  const groups = new Map<string, StepType[]>();
  for (const t of types) {
    const c = t.category || 'Other';
    groups.set(c, [...(groups.get(c) ?? []), t]);
  }
  const rank = (c: string) => {
    const i = CATEGORY_ORDER.indexOf(c);
    return i < 0 ? CATEGORY_ORDER.length : i;
  };
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Moves focus among the palette's items with the arrow keys, Home and End. */
function onListKeyDown(e: KeyboardEvent<HTMLElement>) {
  if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
  const items = [...e.currentTarget.querySelectorAll<HTMLButtonElement>('button.palette-item')];
  const i = items.indexOf(document.activeElement as HTMLButtonElement);
  if (i < 0) return;
  e.preventDefault();
  const next = e.key === 'Home' ? 0 : e.key === 'End' ? items.length - 1 : e.key === 'ArrowDown' ? Math.min(items.length - 1, i + 1) : Math.max(0, i - 1);
  items[next]?.focus();
}

export function Palette({ onAdd, onSetTrigger, triggerType }: PaletteProps) {
  const catalog = useCatalog();
  const [query, setQuery] = useState('');
  const searchId = useId();
  const q = query.trim();

  const groups = useMemo(() => groupStepTypes(catalog.stepTypes.filter((t) => matches(q, t))), [catalog.stepTypes, q]);
  const triggers = useMemo(() => catalog.triggerTypes.filter((t) => matches(q, t)), [catalog.triggerTypes, q]);

  const onDragStart = (e: DragEvent<HTMLButtonElement>, type: string) => {
    e.dataTransfer.setData(STEP_DND_TYPE, type);
    e.dataTransfer.setData('text/plain', type);
    e.dataTransfer.effectAllowed = 'copy';
  };

  return (
    <div className="palette" onKeyDown={onListKeyDown}>
      <div className="palette-search">
        <label htmlFor={searchId} className="sr-only">
          Search steps
        </label>
        <input
          id={searchId}
          type="search"
          placeholder="Search steps"
          aria-label="Search steps"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setQuery('');
          }}
          autoComplete="off"
        />
      </div>

      {groups.map(([category, types]) => (
        <PaletteGroup key={category} title={category}>
          {types.map((t) => (
            <li key={t.type}>
              <button
                type="button"
                className="palette-item"
                data-testid={`palette-${t.type}`}
                title={t.description}
                draggable
                onDragStart={(e) => onDragStart(e, t.type)}
                onClick={() => onAdd(t.type)}
              >
                <span className={`palette-icon lf-cat-${category.toLowerCase()}`}>
                  <StepIcon type={t.type} category={t.category} size={16} />
                </span>
                <span className="palette-title">{t.title}</span>
              </button>
            </li>
          ))}
        </PaletteGroup>
      ))}

      {triggers.length > 0 && (
        <PaletteGroup title="Triggers">
          {triggers.map((t) => (
            <TriggerItem key={t.type} t={t} current={t.type === triggerType} onPick={onSetTrigger} />
          ))}
        </PaletteGroup>
      )}

      {groups.length === 0 && triggers.length === 0 && (
        <p className="muted small palette-empty" role="status">
          No step or trigger matches “{q}”.
        </p>
      )}
    </div>
  );
}

function PaletteGroup({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <section className="palette-group" aria-labelledby={id}>
      <h3 id={id} className="palette-heading">
        {title}
      </h3>
      <ul className="palette-list">{children}</ul>
    </section>
  );
}

function TriggerItem({ t, current, onPick }: { t: TriggerType; current: boolean; onPick: (type: string) => void }) {
  return (
    <li>
      <button
        type="button"
        className={`palette-item${current ? ' is-current' : ''}`}
        data-testid={`palette-${t.type}`}
        title={t.description}
        aria-pressed={current}
        onClick={() => onPick(t.type)}
      >
        <span className="palette-icon lf-cat-trigger">
          <StepIcon type="trigger" category="trigger" size={16} />
        </span>
        <span className="palette-title">{t.title}</span>
        {current && <span className="palette-current">current</span>}
      </button>
    </li>
  );
}
