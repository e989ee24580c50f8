// "Test workflow": pick the trigger data (the trigger type's example, the
// last real event from the inbox, or edited by hand) and run.
import { useEffect, useRef, useState } from 'react';
import type { TriggerType } from '../api/types';
import { exampleFromAccount, examplePayload, lastEventPayload, type PayloadSource } from './testPayload';
import { syntaxErrorAt } from './JsonTab';

export function TestRunDialog({ triggerType, connection, lastTrigger, dirty, onCancel, onRun }: {
  triggerType: TriggerType | undefined;
  /** The trigger's Lever connection, whose account fills the example's ids. */
  connection?: string;
  /** The trigger data of the last run, offered as the starting point. */
  lastTrigger?: unknown;
  /** Whether running saves a new version first. */
  dirty: boolean;
  onCancel: () => void;
  onRun: (trigger: unknown) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [source, setSource] = useState<PayloadSource>(lastTrigger !== undefined ? 'last_run' : 'example');
  const [text, setText] = useState(JSON.stringify(lastTrigger ?? examplePayload(triggerType), null, 2));
  const [note, setNote] = useState('');
  const [error, setError] = useState('');

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    if (lastTrigger === undefined) void pick('example');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Each pick supersedes the ones before: a slow answer for an earlier
  // choice (or typing meanwhile) is not written over the box.
  const seq = useRef(0);

  async function pick(s: PayloadSource) {
    const mine = ++seq.current;
    const show = (data: unknown, n = '') => {
      if (seq.current !== mine) return;
      setText(JSON.stringify(data, null, 2));
      setNote(n);
    };
    setSource(s);
    setError('');
    setNote('');
    if (s === 'last_run') show(lastTrigger ?? {});
    if (s === 'example') {
      show(examplePayload(triggerType));
      const { data, note: n } = await exampleFromAccount(triggerType, connection);
      show(data, n);
    }
    if (s === 'last_event') {
      try {
        const last = await lastEventPayload(triggerType);
        if (!last) {
          const { data } = await exampleFromAccount(triggerType, connection);
          show(data, triggerType?.lever_events?.length ? 'The inbox has no event of this kind yet: the example is shown instead.' : 'This trigger does not come from Lever events: the example is shown instead.');
        } else {
          show(last.data, `From the ${last.event.type} event received ${new Date(last.event.received_at).toLocaleString()}.`);
        }
      } catch (e) {
        if (seq.current === mine) setError(e instanceof Error ? e.message : String(e));
      }
    }
  }

  function run() {
    try {
      onRun(JSON.parse(text));
    } catch (e) {
      setError('The trigger data is not valid JSON: ' + syntaxErrorAt(text, e));
    }
  }

  return (
    <dialog ref={ref} className="modal" aria-labelledby="test-run-title" onCancel={(e) => { e.preventDefault(); onCancel(); }} data-testid="test-run-dialog">
      <div className="modal-body">
        <h2 id="test-run-title">Test workflow</h2>
        <p className="muted">The run uses this data as <code>trigger</code>. Steps run for real: Lever steps act on the connection's account.{dirty ? ' Your changes are saved as a new version first.' : ''}</p>
        <fieldset className="row payload-source">
          <legend className="sr-only">Trigger data</legend>
          {([
            ...(lastTrigger !== undefined ? [['last_run', 'Last run’s data']] : []),
            ['example', `Example${triggerType ? ` (${triggerType.title})` : ''}`],
            ['last_event', 'Last real event'],
            ['custom', 'Edit by hand'],
          ] as [PayloadSource, string][]).map(([v, label]) => (
            <label key={v} className="radio">
              <input type="radio" name="payload-source" value={v} checked={source === v} onChange={() => void pick(v)} data-testid={`payload-${v}`} />
              {label}
            </label>
          ))}
        </fieldset>
        {note && <div className="alert info">{note}</div>}
        <label className="field">
          <span className="label">Trigger data (JSON)</span>
          <textarea className="mono payload-text" rows={14} value={text} onChange={(e) => { seq.current++; setText(e.target.value); setSource('custom'); }} data-testid="test-payload" spellCheck={false} />
        </label>
        {error && <div className="alert error" role="alert">{error}</div>}
      </div>
      <div className="modal-actions">
        <button onClick={onCancel}>Cancel</button>
        <button className="primary" onClick={run} data-testid="run-test">Run test</button>
      </div>
    </dialog>
  );
}
