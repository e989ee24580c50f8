// The version history: every saved version, the changes between any
// version and the latest, and restoring one into the draft.
import { useEffect, useState } from 'react';
import { api } from '../api/client';
import type { WorkflowDiff, WorkflowVersionInfo } from '../api/types';
import type { Workflow } from '../api/types';

function show(v: unknown): string {
  if (v === undefined) return '';
  const s = JSON.stringify(v);
  return s.length > 120 ? s.slice(0, 117) + '…' : s;
}

export function VersionsTab({ workflowId, latest, onRestore }: {
  workflowId: string;
  latest: number;
  onRestore: (wf: Workflow, version: number) => void;
}) {
  const [versions, setVersions] = useState<WorkflowVersionInfo[]>([]);
  const [picked, setPicked] = useState<number | null>(null);
  const [diff, setDiff] = useState<WorkflowDiff | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    api.listVersions(workflowId).then((v) => {
      const sorted = [...v].sort((a, b) => b.version - a.version);
      setVersions(sorted);
      setPicked(sorted.find((x) => x.version < latest)?.version ?? sorted[0]?.version ?? null);
    }).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [workflowId, latest]);

  useEffect(() => {
    if (picked === null || picked === latest) {
      setDiff(null);
      return;
    }
    api.diffWorkflow(workflowId, picked, latest).then(setDiff).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [workflowId, picked, latest]);

  async function restore(version: number) {
    try {
      const v = await api.getWorkflow(workflowId, version);
      onRestore(v.workflow, version);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <div className="versions-tab">
      {error && <div className="alert error" role="alert">{error}</div>}
      <div className="versions-layout">
        <table className="list" data-testid="versions-table">
          <thead><tr><th>Version</th><th>Name</th><th>Saved</th><th /></tr></thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} className={picked === v.version ? 'picked' : undefined}>
                <td>
                  <button className="link" onClick={() => setPicked(v.version)} aria-pressed={picked === v.version}>v{v.version}</button>
                  {v.version === latest && <span className="badge enabled">latest</span>}
                </td>
                <td>{v.name}</td>
                <td>{new Date(v.created_at).toLocaleString()}</td>
                <td>{v.version !== latest && <button onClick={() => void restore(v.version)} data-testid={`restore-${v.version}`}>Restore</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <section className="card diff" aria-live="polite" data-testid="version-diff">
          {picked === null || picked === latest ? (
            <p className="muted">{versions.length <= 1 ? 'Only one version so far: each save makes a new one.' : 'Pick an older version to see what changed since.'}</p>
          ) : diff ? (
            <>
              <h3>Changes from v{diff.from} to v{diff.to}</h3>
              {diff.changes.length === 0 ? <p className="muted">No changes.</p> : (
                <ul className="changes">
                  {diff.changes.map((c, i) => (
                    <li key={i} className={`change ${c.op}`}>
                      <span className="op">{c.op === 'add' ? 'added' : c.op === 'remove' ? 'removed' : 'changed'}</span>{' '}
                      <code>{c.path}</code>
                      {c.step_id && <span className="muted small"> (step {c.step_id})</span>}
                      {c.op !== 'add' && <div className="from mono">− {show(c.from)}</div>}
                      {c.op !== 'remove' && <div className="to mono">+ {show(c.to)}</div>}
                    </li>
                  ))}
                </ul>
              )}
            </>
          ) : <p className="muted">Loading…</p>}
        </section>
      </div>
    </div>
  );
}
