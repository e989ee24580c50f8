// The JSON tab: the draft as JSON, editable, checked as you type (syntax
// with line and column, then the server's validation), with import from a
// file and export to one.
import { useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import type { Problem, Workflow } from '../api/types';
import { jsonSyntaxError } from '../components/jsonError';

/** Where text breaks as JSON: "line L, column C: what" (for a text JSON.parse refused). */
export function syntaxErrorAt(text: string, err: unknown): string {
  return jsonSyntaxError(text) || (err instanceof Error ? err.message : String(err));
}

/**
 * What keeps a JSON value from being edited as a workflow at all (the
 * server's validation reports the rest), or '' when it has the shape.
 */
export function shapeProblem(v: unknown): string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'a workflow is a JSON object such as {"name": ..., "trigger": {...}, "steps": [...]}';
  const wf = v as Record<string, unknown>;
  const t = wf.trigger as Record<string, unknown> | undefined;
  if (typeof t !== 'object' || t === null || Array.isArray(t) || typeof t.type !== 'string') return 'trigger must be an object with a "type", such as {"type": "api"}';
  if (!Array.isArray(wf.steps)) return 'steps must be a list (use [] for none)';
  const bad = (wf.steps as unknown[]).findIndex((s) => typeof s !== 'object' || s === null || Array.isArray(s) || typeof (s as { id?: unknown }).id !== 'string' || typeof (s as { type?: unknown }).type !== 'string');
  if (bad >= 0) return `steps[${bad}] must be an object with a string "id" and "type"`;
  if (wf.edges !== undefined && !Array.isArray(wf.edges)) return 'edges must be a list of {"from", "to"}';
  return '';
}

export function JsonTab({ workflow, problems, fileName, onApply }: {
  workflow: Workflow;
  problems: Problem[];
  fileName: string;
  onApply: (wf: Workflow) => void;
}) {
  const pretty = JSON.stringify(workflow, null, 2);
  const [text, setText] = useState(pretty);
  const [syntax, setSyntax] = useState('');
  const [own, setOwn] = useState<Problem[] | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const edited = text !== pretty;

  // A change made elsewhere (undo, the canvas) shows here unless the text
  // holds edits of its own.
  const lastPretty = useRef(pretty);
  useEffect(() => {
    if (lastPretty.current !== pretty && !edited) setText(pretty);
    lastPretty.current = pretty;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pretty]);

  useEffect(() => {
    if (!edited) {
      setSyntax('');
      setOwn(null);
      return;
    }
    try {
      JSON.parse(text);
      setSyntax('');
    } catch (e) {
      setSyntax(syntaxErrorAt(text, e));
      setOwn(null);
      return;
    }
    const t = window.setTimeout(() => {
      api.validateWorkflow(text).then((r) => setOwn(r.problems ?? [])).catch(() => {});
    }, 300);
    return () => window.clearTimeout(t);
  }, [text, edited]);

  const shown = edited ? own ?? [] : problems;

  function apply() {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      setSyntax(syntaxErrorAt(text, e));
      return;
    }
    const shape = shapeProblem(v);
    if (shape) {
      setSyntax(shape);
      return;
    }
    onApply(v as Workflow);
  }

  function exportFile() {
    const blob = new Blob([pretty + '\n'], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = fileName;
    a.click();
    URL.revokeObjectURL(a.href);
  }

  async function importFile(f: File) {
    const content = await f.text();
    setText(content);
  }

  return (
    <div className="json-tab">
      <div className="row json-actions">
        <button className="primary" onClick={apply} disabled={!edited || syntax !== ''} data-testid="json-apply">Apply to the draft</button>
        <button onClick={() => setText(pretty)} disabled={!edited}>Discard edits</button>
        <span className="spacer" />
        <button onClick={() => fileRef.current?.click()} data-testid="json-import">Import file…</button>
        <input ref={fileRef} type="file" accept=".json,application/json" hidden onChange={(e) => e.target.files?.[0] && void importFile(e.target.files[0])} />
        <button onClick={exportFile} data-testid="json-export">Export</button>
      </div>
      <label htmlFor="workflow-json" className="sr-only">Workflow JSON</label>
      <textarea
        id="workflow-json"
        data-testid="workflow-json"
        className="json-text mono"
        spellCheck={false}
        value={text}
        aria-invalid={syntax !== '' || shown.length > 0}
        aria-describedby="json-problems"
        onChange={(e) => setText(e.target.value)}
      />
      <div id="json-problems" aria-live="polite">
        {syntax && <div className="alert error" data-testid="json-syntax">Not valid JSON: {syntax}</div>}
        {!syntax && shown.length > 0 && (
          <div className="alert error" data-testid="json-problems">
            <strong>{shown.length} problem{shown.length === 1 ? '' : 's'}:</strong>
            <ul>{shown.map((p, i) => <li key={i}><code>{p.path || '(workflow)'}</code>: {p.message}</li>)}</ul>
          </div>
        )}
        {!syntax && edited && own !== null && own.length === 0 && <div className="alert ok">Valid: apply it to the draft, then save.</div>}
      </div>
    </div>
  );
}
