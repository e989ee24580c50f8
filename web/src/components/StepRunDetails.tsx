// One step of a run: what happened to it (status, attempts, times, error,
// branch), what it got (its input, references resolved) and what it gave
// (its output). A step in a fanout's body ran once per item; a fanout ran
// its body once per item: both list the items, each opening on demand.
import { useState, type ReactNode } from 'react';
import type { Run, StepRun } from '../api/types';
import { fanoutItemStatus, fanoutItems, runStepKeys, parseStepKey, type FanoutItem } from '../runStatus';
import { JsonTree } from './JsonTree';
import { StatusBadge } from './StatusBadge';
import { durationBetween, formatTime, relativeTime } from './time';
import './components.css';

export interface StepRunDetailsProps {
  run: Run;
  stepId: string;
  /** The heading; defaults to the step id. */
  title?: string;
}

export function StepRunDetails({ run, stepId, title }: StepRunDetailsProps) {
  const keys = runStepKeys(run, stepId);
  const own = keys.length === 1 && parseStepKey(keys[0]).items.length === 0 ? run.steps[keys[0]] : undefined;
  const itemKeys = own ? [] : keys;
  const isFanout = keys.length === 0 || keys.some((k) => run.steps[k].type === 'fanout');
  const items = isFanout ? fanoutItems(run, stepId) : [];
  const finished = run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled';
  return (
    <section className="step-details" data-testid="step-details" aria-label={`Step ${title ?? stepId}`}>
      <h3>{title ?? stepId}</h3>
      {own && <StepRunView sr={own} />}
      {!own && itemKeys.length > 0 && (
        <ItemRuns
          summary={`Ran once per item of its fanout: ${countWord(itemKeys.length, 'time')}.`}
          entries={itemKeys.map((k) => ({ key: k, label: itemLabel(k), status: run.steps[k].status, render: () => <StepRunView sr={run.steps[k]} /> }))}
        />
      )}
      {items.length > 0 && (
        <>
          <h3>Items ({items.length})</h3>
          <ItemRuns
            entries={items.map((item) => ({
              key: item.prefix,
              label: itemLabel(item.prefix + '.x'),
              status: fanoutItemStatus(item),
              render: () => <FanoutItemView item={item} />,
            }))}
          />
        </>
      )}
      {!own && keys.length === 0 && items.length === 0 && (
        <p className="muted">
          {finished
            ? 'This step did not run in this run (an earlier step failed, or the workflow took another branch).'
            : 'This step has not run yet.'}
        </p>
      )}
    </section>
  );
}

function countWord(n: number, word: string): string {
  return `${n} ${n === 1 ? word : word + 's'}`;
}

/** "score[1].points" -> "Item 1"; nested "a[0].b[2].c" -> "a item 0 › b item 2". */
function itemLabel(key: string): string {
  const { items } = parseStepKey(key);
  if (items.length === 1) return `Item ${items[0].index}`;
  return items.map((i) => `${i.fanout} item ${i.index}`).join(' › ');
}

interface ItemEntry {
  key: string;
  label: string;
  status: string;
  render: () => ReactNode;
}

/** A list of item runs, each a <details> rendered only while open; the first failed one starts open. */
function ItemRuns({ entries, summary }: { entries: ItemEntry[]; summary?: string }) {
  const firstFailed = entries.find((e) => e.status === 'failed')?.key ?? null;
  const [open, setOpen] = useState<Record<string, boolean>>(() => (firstFailed ? { [firstFailed]: true } : {}));
  return (
    <div className="item-list">
      {summary && <p className="muted small">{summary}</p>}
      {entries.map((e) => (
        <details
          key={e.key}
          open={!!open[e.key]}
          data-testid={`step-item-${e.key}`}
          onToggle={(ev) => {
            const isOpen = (ev.currentTarget as HTMLDetailsElement).open;
            setOpen((o) => (o[e.key] === isOpen ? o : { ...o, [e.key]: isOpen }));
          }}
        >
          <summary>
            <span>{e.label}</span>
            <StatusBadge status={e.status} />
          </summary>
          {open[e.key] && <div className="section-body">{e.render()}</div>}
        </details>
      ))}
    </div>
  );
}

function FanoutItemView({ item }: { item: FanoutItem }) {
  const steps = Object.entries(item.steps).sort(([, a], [, b]) => (a.run.started_at ?? '').localeCompare(b.run.started_at ?? ''));
  return (
    <div className="step-details">
      {steps.map(([id, { run }]) => (
        <div key={id}>
          <h3>{id}</h3>
          <StepRunView sr={run} />
        </div>
      ))}
    </div>
  );
}

/** The facts, error, input and output of one step run. */
export function StepRunView({ sr }: { sr: StepRun }) {
  const running = sr.status === 'running';
  return (
    <div className="step-details">
      <dl className="step-facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={sr.status} />
        </dd>
        {sr.attempts > 0 && (
          <>
            <dt>Attempts</dt>
            <dd>{sr.attempts === 1 ? '1 (first try)' : `${sr.attempts} (retried ${countWord(sr.attempts - 1, 'time')})`}</dd>
          </>
        )}
        {sr.started_at && (
          <>
            <dt>Started</dt>
            <dd title={formatTime(sr.started_at)}>
              {formatTime(sr.started_at)} <span className="muted">({relativeTime(sr.started_at)})</span>
            </dd>
          </>
        )}
        {sr.finished_at && (
          <>
            <dt>Finished</dt>
            <dd>{formatTime(sr.finished_at)}</dd>
          </>
        )}
        {sr.started_at && (sr.finished_at || running) && (
          <>
            <dt>{running ? 'Running for' : 'Took'}</dt>
            <dd>{durationBetween(sr.started_at, sr.finished_at)}</dd>
          </>
        )}
        {sr.status === 'waiting' && sr.wake_at && (
          <>
            <dt>Continues</dt>
            <dd>
              {formatTime(sr.wake_at)} <span className="muted">({relativeTime(sr.wake_at)})</span>
            </dd>
          </>
        )}
        {sr.branch && (
          <>
            <dt>Branch taken</dt>
            <dd>
              <strong>{sr.branch}</strong>
            </dd>
          </>
        )}
      </dl>
      {sr.error && (
        <div className="alert error" role="alert" data-testid="step-error">
          <pre className="step-error">{sr.error}</pre>
        </div>
      )}
      <Section title="Output" testId="step-output" value={sr.output} empty={emptyText(sr, 'output')} />
      <Section title="Input" testId="step-input" value={sr.input} empty={emptyText(sr, 'input')} />
    </div>
  );
}

function emptyText(sr: StepRun, what: 'input' | 'output'): string {
  if (what === 'input') return sr.status === 'failed' ? 'No input: the step failed while reading it.' : 'No input.';
  if (sr.status === 'failed') return 'No output: the step failed.';
  if (sr.status === 'running' || sr.status === 'pending' || sr.status === 'waiting') return 'No output yet.';
  if (sr.status === 'skipped') return 'No output: the step was skipped.';
  return 'No output.';
}

function Section({ title, testId, value, empty }: { title: string; testId: string; value: unknown; empty: string }) {
  const none = value === null || value === undefined;
  return (
    <details open data-testid={testId}>
      <summary>{title}</summary>
      <div className="section-body">{none ? <p className="muted small">{empty}</p> : <JsonTree value={value} label={title} />}</div>
    </details>
  );
}
