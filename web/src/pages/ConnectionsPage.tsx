// Lever connections: which Lever account each one reaches, whether it
// still works, and how to fix it when it does not. New connections are
// made here: through Lever's consent page in a pop-up (OAuth) or with an
// API key. Secrets go to the server and are never shown again.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, request } from '../api/client';
import type { Connection } from '../api/types';
import { navigate, useLocation } from '../router';
import { errorMessage } from '../components/errors';
import { Modal } from '../components/Modal';
import { StatusBadge } from '../components/StatusBadge';
import { formatDate, formatTime, relativeTime } from '../components/time';
import '../components/components.css';

// ---------------------------------------------------------------------------
// Words

const ENVIRONMENTS: [string, string][] = [
  ['production', 'Production (your live Lever account)'],
  ['sandbox', 'Lever sandbox (a test account Lever gave you)'],
  ['local', 'Built-in sandbox (practice data, no Lever account needed)'],
];

function environmentWord(env: string): string {
  switch (env) {
    case 'production':
      return 'Production';
    case 'sandbox':
      return 'Lever sandbox';
    case 'local':
      return 'Built-in sandbox';
    default:
      return env;
  }
}

function authWord(c: Connection): string {
  if (c.auth === 'api_key') return 'API key';
  if (c.auth === 'oauth') return c.client_id ? 'OAuth app' : 'OAuth';
  return c.auth;
}

function accountText(a: Connection['account']): string {
  if (!a) return '';
  if (a.name && a.user_email) return `${a.name} as ${a.user_email}`;
  return a.name || a.user_email || '';
}

/** Lever's scopes, without the ":admin" every one of them ends with (offline_access is always added). */
const SCOPE_RESOURCES = [
  'applications:read', 'archive_reasons:read', 'audit_events:read', 'confidential:access',
  'contact:read', 'contact:write', 'diversity_surveys:read', 'eeo_responses:read', 'eeo_responses_pii:read',
  'feedback:read', 'feedback:write', 'feedback_templates:read', 'feedback_templates:write',
  'files:read', 'files:write', 'forms:read', 'forms:write', 'form_templates:read', 'form_templates:write',
  'groups:read', 'groups:write', 'interviews:read', 'interviews:write', 'notes:read', 'notes:write',
  'offers:read', 'opportunities:read', 'opportunities:write', 'panels:read', 'panels:write',
  'permissions:read', 'permissions:write', 'postings:read', 'postings:write', 'referrals:read',
  'requisitions:read', 'requisitions:write', 'requisition_fields:read', 'requisition_fields:write',
  'resumes:read', 'roles:read', 'roles:write', 'sources:read', 'stages:read', 'tags:read', 'tasks:read',
  'uploads:write', 'users:read', 'users:write', 'webhooks:read', 'webhooks:write',
];
export const LEVER_SCOPES = SCOPE_RESOURCES.map((s) => s + ':admin');
/** What the built-in app asks for (connections.DefaultLocalScopes): enough for every Lever step and webhooks. */
export const DEFAULT_SCOPES = [
  'opportunities:write:admin', 'contact:write:admin', 'postings:write:admin', 'users:write:admin', 'stages:read:admin',
  'archive_reasons:read:admin', 'tags:read:admin', 'sources:read:admin', 'webhooks:write:admin',
];
/** Lever allows about 20 scopes per app, offline_access included. */
const MAX_SCOPES = 19;

function scopeWord(scope: string): string {
  const [res, access] = scope.split(':');
  const name = res.replace(/_/g, ' ');
  const what = access === 'write' ? 'read and change' : access === 'read' ? 'read' : 'access';
  return `${name[0].toUpperCase()}${name.slice(1)}: ${what}`;
}

// ---------------------------------------------------------------------------
// The OAuth pop-up

/** The message the callback page posts to window.opener (api/oauth.go). */
interface OAuthMessage {
  type: 'leverflow:oauth';
  status: 'connected' | 'error';
  connection?: string;
  code?: string;
}

type OAuthOutcome = { kind: 'message'; message: OAuthMessage } | { kind: 'closed' } | { kind: 'cancelled' };

interface AuthorizeBody {
  name: string;
  environment: string;
  client_id?: string;
  client_secret?: string;
  scopes?: string[];
  replace?: boolean;
  confirm_account_change?: boolean;
}

/** A pop-up being opened; cancel() closes it and ends the wait. */
interface OAuthFlow {
  done: Promise<OAuthOutcome>;
  cancel: () => void;
}

/**
 * Opens the pop-up at once (from the click, so the browser allows it),
 * asks the server for Lever's authorize URL (POST, which also sets the
 * browser-binding cookie the callback checks), sends the pop-up there and
 * waits for the callback page's message or the pop-up closing.
 */
function startOAuth(body: AuthorizeBody, onUrl: (url: string) => void, check?: () => Promise<boolean>): OAuthFlow {
  const w = 600;
  const h = 700;
  const left = Math.max(0, window.screenX + (window.outerWidth - w) / 2);
  const top = Math.max(0, window.screenY + (window.outerHeight - h) / 2);
  const popup = window.open('', 'leverflow-oauth', `popup=yes,width=${w},height=${h},left=${left},top=${top}`);
  let finish: (o: OAuthOutcome) => void = () => {};
  let fail: (e: unknown) => void = () => {};
  let ended = false;
  let poll = 0;
  let checkTimer = 0;
  let callbackOrigin = window.location.origin;
  const cleanup = () => {
    ended = true;
    window.removeEventListener('message', onMessage);
    window.clearInterval(poll);
    window.clearInterval(checkTimer);
  };
  const onMessage = (e: MessageEvent) => {
    if (e.origin !== window.location.origin && e.origin !== callbackOrigin) return;
    const m = e.data as Partial<OAuthMessage> | null;
    if (!m || typeof m !== 'object' || m.type !== 'leverflow:oauth') return;
    if (popup && e.source && e.source !== popup) return;
    cleanup();
    popup?.close();
    finish({ kind: 'message', message: m as OAuthMessage });
  };
  const done = new Promise<OAuthOutcome>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  if (popup) {
    try {
      popup.document.title = 'Connecting to Lever…';
      popup.document.body.style.fontFamily = 'system-ui, sans-serif';
      popup.document.body.textContent = 'Opening Lever…';
    } catch {
      // a pop-up we cannot write to is fine
    }
  }
  window.addEventListener('message', onMessage);
  request<{ authorize_url: string }>('/connections/lever/authorize', { method: 'POST', body })
    .then(({ authorize_url }) => {
      if (ended) return;
      try {
        const redirect = new URL(authorize_url).searchParams.get('redirect_uri');
        if (redirect) callbackOrigin = new URL(redirect).origin;
      } catch {
        // keep the page's own origin
      }
      onUrl(authorize_url);
      if (!popup || popup.closed) return; // blocked: the dialog offers a link
      popup.location.href = authorize_url;
      let closedSince = 0;
      poll = window.setInterval(() => {
        // A pop-up can look closed for a moment when it moves to another
        // site's process; wait a second before believing it.
        if (!popup.closed) {
          closedSince = 0;
          return;
        }
        if (!closedSince) closedSince = Date.now();
        else if (Date.now() - closedSince >= 1000) {
          cleanup();
          finish({ kind: 'closed' });
        }
      }, 400);
      // The callback's message cannot arrive when the editor runs on
      // another origin than the server's public URL (a dev proxy) or when
      // Lever's pages cut the pop-up from its opener: look at the
      // connection itself every 2 seconds too.
      if (check) {
        let checking = false;
        checkTimer = window.setInterval(() => {
          if (checking || ended) return;
          checking = true;
          check()
            .then((ok) => {
              if (!ok || ended) return;
              cleanup();
              popup.close();
              finish({ kind: 'message', message: { type: 'leverflow:oauth', status: 'connected', connection: body.name } });
            })
            .catch(() => {})
            .finally(() => {
              checking = false;
            });
        }, 2000);
      }
    })
    .catch((e: unknown) => {
      cleanup();
      popup?.close();
      fail(e);
    });
  return {
    done,
    cancel: () => {
      if (ended) return;
      cleanup();
      popup?.close();
      finish({ kind: 'cancelled' });
    },
  };
}

/**
 * Whether connection name is connected and was saved again since it read
 * before (null: it did not exist): a finished sign-in. Comparing the
 * server's own times avoids any clock difference with this computer.
 */
async function connectedSince(name: string, before: string | null): Promise<boolean> {
  try {
    const c = await api.getConnection(name);
    return c.status === 'connected' && c.updated_at !== before;
  } catch {
    return false;
  }
}

/** What a callback error code means, in a sentence. */
function oauthCodeText(code: string | undefined, name: string): string {
  switch (code) {
    case 'access_denied':
      return 'Access was not granted in Lever, so the connection was not made.';
    case 'bad_state':
      return 'The sign-in took too long (over 10 minutes) or was started in another browser. Connect again.';
    case 'conflict':
      return `The Lever account you signed in to is not the one connection “${name}” used before.`;
    case 'invalid_scope':
      return 'Your Lever app is not allowed to ask for some of the chosen scopes. Untick the ones it does not have, then connect again.';
    case 'invalid_client':
    case 'unauthorized_client':
      return 'Lever did not accept the Client ID and Client Secret. Copy both again from your Lever app, then connect again.';
    default:
      return `Lever did not finish the connection${code ? ` (${code.replace(/_/g, ' ')})` : ''}. The Lever window explains what to do.`;
  }
}

// ---------------------------------------------------------------------------
// The page

type TestState = { state: 'running' } | { state: 'ok'; text: string } | { state: 'failed'; text: string };

export function ConnectionsPage() {
  const { query } = useLocation();
  const [conns, setConns] = useState<Connection[] | null>(null);
  const [loadError, setLoadError] = useState('');
  const [tests, setTests] = useState<Record<string, TestState>>({});
  const [dialogOpen, setDialogOpen] = useState(false);
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState('');
  const [reconnects, setReconnects] = useState<Record<string, { busy: boolean; error: string; flow?: OAuthFlow; url?: string }>>({});
  const [notice, setNotice] = useState('');
  const wantNew = query.get('new') === '1';
  /** The reconnect sign-ins in progress, all cancelled when the page is left. */
  const flows = useRef(new Set<OAuthFlow>());

  useEffect(() => {
    const running = flows.current;
    return () => {
      for (const f of running) f.cancel();
      running.clear();
    };
  }, []);

  const load = useCallback(async () => {
    try {
      const list = await api.listConnections();
      setConns(list);
      setLoadError('');
      return list;
    } catch (e) {
      setLoadError(errorMessage(e));
      return null;
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const test = useCallback(async (name: string) => {
    setTests((t) => ({ ...t, [name]: { state: 'running' } }));
    try {
      const r = await api.testConnection(name);
      const who = accountText(r.account) || 'Lever';
      setTests((t) => ({ ...t, [name]: { state: 'ok', text: `✓ Connected to ${who} (${r.latency_ms} ms)` } }));
      setConns((list) => list?.map((c) => (c.name === name ? r.connection : c)) ?? null);
    } catch (e) {
      setTests((t) => ({ ...t, [name]: { state: 'failed', text: errorMessage(e) } }));
      void load(); // the status may have changed to needs_reauth
    }
  }, [load]);

  /** After a connection was made: the list again, then a test ending in the green check. */
  const connected = useCallback(
    async (name: string) => {
      setDialogOpen(false);
      if (wantNew) navigate('/connections', true);
      setNotice(`Connection “${name}” saved. Testing it…`);
      await load();
      await test(name);
      setNotice('');
    },
    [load, test, wantNew],
  );

  async function reconnect(c: Connection) {
    setReconnects((r) => ({ ...r, [c.name]: { busy: true, error: '' } }));
    const flow = startOAuth(
      { name: c.name, environment: c.environment, replace: true },
      (url) => setReconnects((r) => ({ ...r, [c.name]: { ...r[c.name], url } })),
      () => connectedSince(c.name, c.updated_at),
    );
    setReconnects((r) => ({ ...r, [c.name]: { ...r[c.name], flow } }));
    flows.current.add(flow);
    try {
      const out = await flow.done.finally(() => flows.current.delete(flow));
      if (out.kind === 'cancelled') {
        setReconnects((r) => ({ ...r, [c.name]: { busy: false, error: '' } }));
        return;
      }
      if (out.kind === 'message' && out.message.status !== 'connected') {
        setReconnects((r) => ({ ...r, [c.name]: { busy: false, error: oauthCodeText(out.message.code, c.name) } }));
        await load();
        return;
      }
      const ok = out.kind === 'message' || (await connectedSince(c.name, c.updated_at));
      await load();
      if (!ok) {
        setReconnects((r) => ({ ...r, [c.name]: { busy: false, error: 'The Lever window was closed before the connection was renewed.' } }));
        return;
      }
      setReconnects((r) => ({ ...r, [c.name]: { busy: false, error: '' } }));
      await test(c.name);
    } catch (e) {
      setReconnects((r) => ({ ...r, [c.name]: { busy: false, error: errorMessage(e) } }));
    }
  }

  async function confirmDelete() {
    if (!deleting) return;
    setDeleteBusy(true);
    setDeleteError('');
    try {
      await api.deleteConnection(deleting.name);
      setNotice(`Connection “${deleting.name}” deleted.`);
      setDeleting(null);
      await load();
    } catch (e) {
      setDeleteError(errorMessage(e));
    } finally {
      setDeleteBusy(false);
    }
  }

  const names = useMemo(() => (conns ?? []).map((c) => c.name), [conns]);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Connections</h1>
        <span className="spacer" />
        <button type="button" className="primary" data-testid="connect-lever-open" onClick={() => setDialogOpen(true)}>
          Connect Lever
        </button>
      </div>
      <p className="muted">Workflows reach Lever through these connections. Each one signs in to one Lever account.</p>
      {notice && (
        <div className="alert info" role="status">
          {notice}
        </div>
      )}
      {loadError && (
        <div className="alert error" role="alert">
          The connections could not be loaded: {loadError}{' '}
          <button type="button" className="link" onClick={() => void load()}>
            Try again
          </button>
        </div>
      )}
      {conns === null && !loadError && <p className="muted">Loading…</p>}
      {conns !== null && conns.length === 0 && (
        <div className="empty">
          <p>
            <strong>No connections yet.</strong>
          </p>
          <p>Connect Lever to let workflows read and update candidates, and to start workflows when something happens in Lever.</p>
        </div>
      )}
      {conns !== null && conns.length > 0 && (
        <div className="conn-list">
          {conns.map((c) => (
            <ConnectionCard
              key={c.name}
              conn={c}
              test={tests[c.name]}
              onTest={() => void test(c.name)}
              onReconnect={() => void reconnect(c)}
              reconnect={reconnects[c.name]}
              onCancelReconnect={() => reconnects[c.name]?.flow?.cancel()}
              onDelete={() => {
                setDeleteError('');
                setDeleting(c);
              }}
            />
          ))}
        </div>
      )}

      <ConnectDialog
        open={dialogOpen || wantNew}
        existing={conns ?? []}
        names={names}
        onClose={() => {
          setDialogOpen(false);
          if (wantNew) navigate('/connections', true);
        }}
        onConnected={(name) => void connected(name)}
      />

      <Modal
        open={deleting !== null}
        title={`Delete connection “${deleting?.name ?? ''}”?`}
        onClose={() => setDeleting(null)}
        testId="delete-connection-dialog"
        actions={
          <>
            <button type="button" onClick={() => setDeleting(null)} disabled={deleteBusy}>
              Keep it
            </button>
            <button type="button" className="danger" onClick={() => void confirmDelete()} disabled={deleteBusy} data-testid="delete-connection-confirm">
              {deleteBusy ? 'Deleting…' : 'Delete connection'}
            </button>
          </>
        }
      >
        <p>
          Workflows that use “{deleting?.name}” will fail until you connect Lever again under the same name. Its Lever webhooks are removed too.
        </p>
        {deleteError && (
          <div className="alert error" role="alert">
            {deleteError}
          </div>
        )}
      </Modal>
    </div>
  );
}

// ---------------------------------------------------------------------------
// One connection

interface CardProps {
  conn: Connection;
  test?: TestState;
  onTest: () => void;
  onReconnect: () => void;
  onCancelReconnect: () => void;
  reconnect?: { busy: boolean; error: string; url?: string };
  onDelete: () => void;
}

function ConnectionCard({ conn: c, test, onTest, onReconnect, onCancelReconnect, reconnect, onDelete }: CardProps) {
  const needsReauth = c.status === 'needs_reauth';
  const acct = c.account ?? {};
  return (
    <article className="card conn-card" data-testid={`connection-card-${c.name}`} aria-labelledby={`conn-${c.name}`}>
      <div className="row">
        <h2 id={`conn-${c.name}`}>{c.name}</h2>
        <StatusBadge status={c.status} testId={`connection-status-${c.name}`} />
      </div>
      <dl className="facts">
        <dt>Lever</dt>
        <dd>{environmentWord(c.environment)}</dd>
        <dt>Signs in with</dt>
        <dd>{authWord(c)}</dd>
        {acct.name && (
          <>
            <dt>Account</dt>
            <dd>{acct.name}</dd>
          </>
        )}
        {acct.user_email && (
          <>
            <dt>As user</dt>
            <dd>{acct.user_email}</dd>
          </>
        )}
        {c.refresh_expires_at && (
          <>
            <dt>Sign-in lasts until</dt>
            <dd title={formatTime(c.refresh_expires_at)}>{formatDate(c.refresh_expires_at)}</dd>
          </>
        )}
        {c.webhooks && c.webhooks.events.length > 0 && (
          <>
            <dt>Lever events</dt>
            <dd>{c.webhooks.events.length} webhooks registered</dd>
          </>
        )}
        <dt>Last changed</dt>
        <dd title={formatTime(c.updated_at)}>{relativeTime(c.updated_at)}</dd>
      </dl>
      {needsReauth && (
        <div className="alert error" role="alert">
          <strong>Lever no longer accepts this connection.</strong>
          {c.status_message && <div>{c.status_message}</div>}
          {c.fix && c.fix.length > 0 && (
            <>
              <div>To reconnect:</div>
              <ol>
                {c.fix.map((f, i) => (
                  <li key={i}>{f}</li>
                ))}
              </ol>
            </>
          )}
        </div>
      )}
      {!needsReauth && c.status !== 'connected' && c.status_message && <div className="alert warn">{c.status_message}</div>}
      {(c.warnings ?? []).map((w, i) => (
        <div key={i} className="alert warn" role="status">
          {w}
        </div>
      ))}
      {test?.state === 'ok' && (
        <p className="test-ok" role="status" data-testid="connection-test-ok">
          {test.text}
        </p>
      )}
      {test?.state === 'failed' && (
        <div className="alert error" role="alert" data-testid="connection-test-error">
          The test failed: {test.text}
        </div>
      )}
      {reconnect?.error && (
        <div className="alert error" role="alert">
          {reconnect.error}
        </div>
      )}
      {reconnect?.busy && (
        <div className="alert info" role="status">
          Finish signing in to Lever in the pop-up window.{' '}
          {reconnect.url && (
            <>
              No window?{' '}
              <a href={reconnect.url} target="_blank" rel="opener">
                Open Lever’s sign-in page
              </a>
              .{' '}
            </>
          )}
          <button type="button" className="link" onClick={onCancelReconnect}>
            Stop waiting
          </button>
        </div>
      )}
      <div className="row">
        <button type="button" onClick={onTest} disabled={test?.state === 'running'} data-testid={`connection-test-${c.name}`}>
          {test?.state === 'running' ? 'Testing…' : 'Test connection'}
        </button>
        {c.auth === 'oauth' && (
          <button type="button" className={needsReauth ? 'primary' : undefined} onClick={onReconnect} disabled={reconnect?.busy} data-testid={`connection-reconnect-${c.name}`}>
            {reconnect?.busy ? 'Reconnecting…' : 'Reconnect'}
          </button>
        )}
        <span className="spacer" />
        <button type="button" className="danger" onClick={onDelete} data-testid={`connection-delete-${c.name}`}>
          Delete
        </button>
      </div>
    </article>
  );
}

// ---------------------------------------------------------------------------
// Connect Lever

type Method = 'builtin' | 'own' | 'api_key';

/** "lever", or "lever-2", "lever-3"... when taken. */
function freeName(names: string[]): string {
  if (!names.includes('lever')) return 'lever';
  for (let i = 2; ; i++) if (!names.includes(`lever-${i}`)) return `lever-${i}`;
}

const NAME_RULE = /^[a-z0-9][a-z0-9-]{0,62}$/;

interface ConnectDialogProps {
  open: boolean;
  existing: Connection[];
  names: string[];
  onClose: () => void;
  onConnected: (name: string) => void;
}

type Conflict = { kind: 'name' } | { kind: 'account'; detail: string } | null;

function ConnectDialog({ open, existing, names, onClose, onConnected }: ConnectDialogProps) {
  const [name, setName] = useState('lever');
  const [environment, setEnvironment] = useState('production');
  const [method, setMethod] = useState<Method>('own');
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [scopes, setScopes] = useState<string[]>(DEFAULT_SCOPES);
  const [apiKey, setApiKey] = useState('');
  const [replace, setReplace] = useState(false);
  const [confirmAccount, setConfirmAccount] = useState(false);
  const [conflict, setConflict] = useState<Conflict>(null);
  const [error, setError] = useState('');
  const [waiting, setWaiting] = useState<{ url?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const flowRef = useRef<OAuthFlow | null>(null);

  // Leaving the page (not only closing the dialog) ends a sign-in in progress.
  useEffect(() => () => flowRef.current?.cancel(), []);

  // A fresh form each time it opens; secrets never outlive the dialog.
  useEffect(() => {
    if (!open) {
      flowRef.current?.cancel();
      setClientSecret('');
      setApiKey('');
      return;
    }
    setName(freeName(names));
    setReplace(false);
    setConfirmAccount(false);
    setConflict(null);
    setError('');
    setWaiting(null);
    setBusy(false);
    // Only on opening: later changes to the names must not reset the form.
  }, [open]);

  function changeEnvironment(env: string) {
    setEnvironment(env);
    if (env === 'local' && method === 'own' && !clientId) setMethod('builtin');
    if (env !== 'local' && method === 'builtin') setMethod('own');
  }

  const taken = existing.find((c) => c.name === name);
  const nameProblem = name && !NAME_RULE.test(name) ? 'Use lowercase letters, digits and hyphens (for example “acme-sandbox”), starting with a letter or digit.' : '';
  const missing =
    !name ||
    !!nameProblem ||
    (method === 'own' && (!clientId.trim() || !clientSecret.trim() || scopes.length === 0)) ||
    (method === 'api_key' && !apiKey.trim()) ||
    (conflict?.kind === 'name' && !replace) ||
    (conflict?.kind === 'account' && !confirmAccount);

  function fail(e: unknown) {
    if (e instanceof ApiError && e.status === 409) {
      // The server says which conflict it is: details [{reason: "name_taken" | "account_change"}].
      const reason = e.details.map((d) => (d && typeof d === 'object' ? (d as { reason?: unknown }).reason : undefined)).find((r) => typeof r === 'string');
      if (reason === 'account_change') {
        const m = /reaches (.+), and the new credentials reach (.+?);/.exec(e.message);
        setConflict({ kind: 'account', detail: m ? `It reaches ${m[1]}; the new sign-in reaches ${m[2]}.` : '' });
      } else {
        setConflict({ kind: 'name' });
      }
      setError('');
      return;
    }
    setError(errorMessage(e));
  }

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (missing || busy) return;
    setError('');
    setBusy(true);
    const n = name.trim();
    if (method === 'api_key') {
      try {
        await api.createApiKeyConnection({ name: n, environment, api_key: apiKey.trim(), replace, confirm_account_change: confirmAccount });
        setApiKey('');
        onConnected(n);
      } catch (err) {
        fail(err);
      } finally {
        setBusy(false);
      }
      return;
    }
    const body: AuthorizeBody = { name: n, environment, replace, confirm_account_change: confirmAccount };
    if (method === 'own') {
      body.client_id = clientId.trim();
      body.client_secret = clientSecret.trim();
      body.scopes = scopes;
    }
    const before = existing.find((c) => c.name === n)?.updated_at ?? null;
    setWaiting({});
    const flow = startOAuth(body, (url) => setWaiting({ url }), () => connectedSince(n, before));
    flowRef.current = flow;
    try {
      const out = await flow.done;
      if (out.kind === 'cancelled') return;
      if (out.kind === 'message') {
        if (out.message.status === 'connected') {
          setClientSecret('');
          onConnected(out.message.connection || n);
          return;
        }
        if (out.message.code === 'conflict') {
          setConflict({ kind: 'account', detail: '' });
          return;
        }
        setError(oauthCodeText(out.message.code, n));
        return;
      }
      // The window closed without a message (the page may have been unable
      // to reach this one): look at the connection itself.
      if (await connectedSince(n, before)) {
        setClientSecret('');
        onConnected(n);
      } else {
        setError('The Lever window was closed before the connection was finished. Connect again when you are ready.');
      }
    } catch (err) {
      fail(err);
    } finally {
      flowRef.current = null;
      setWaiting(null);
      setBusy(false);
    }
  }

  const takenAccount = taken ? accountText(taken.account) : '';
  const oauth = method !== 'api_key';

  return (
    <Modal
      open={open}
      title="Connect Lever"
      onClose={onClose}
      testId="connect-dialog"
      actions={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="connect-form" className="primary" disabled={missing || busy} data-testid="connect-submit">
            {busy ? (oauth ? 'Waiting for Lever…' : 'Connecting…') : oauth ? 'Connect with Lever' : 'Connect'}
          </button>
        </>
      }
    >
      <form id="connect-form" onSubmit={(e) => void submit(e)} noValidate>
        <label className="field">
          <span className="label">Name</span>
          <input
            value={name}
            onChange={(e) => {
              setName(e.target.value.toLowerCase());
              setConflict(null);
              setReplace(false);
            }}
            autoComplete="off"
            spellCheck={false}
            aria-invalid={!!nameProblem}
            aria-describedby="connect-name-help"
            data-testid="connect-name"
            disabled={busy}
          />
          <span className="help" id="connect-name-help">
            Workflows pick a connection by this name.
          </span>
          {nameProblem && <span className="problem">{nameProblem}</span>}
        </label>

        {conflict?.kind === 'name' && (
          <div className="alert warn" role="alert" data-testid="connect-conflict">
            <p style={{ margin: '0 0 6px' }}>
              A connection named “{name}” already exists{takenAccount ? ` (account ${takenAccount})` : ''}. Choose another name, or replace it.
            </p>
            <label className="check">
              <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} data-testid="connect-replace" />
              Replace it: workflows using “{name}” will use the new sign-in
            </label>
          </div>
        )}
        {conflict?.kind === 'account' && (
          <div className="alert warn" role="alert" data-testid="connect-account-change">
            <p style={{ margin: '0 0 6px' }}>
              The new sign-in reaches a different Lever account than connection “{name}” did. {conflict.detail} Workflows using it would then work on
              the other account’s data.
            </p>
            <label className="check">
              <input type="checkbox" checked={confirmAccount} onChange={(e) => setConfirmAccount(e.target.checked)} data-testid="connect-confirm-account" />
              Yes, switch “{name}” to the other Lever account
            </label>
          </div>
        )}

        <label className="field">
          <span className="label">Lever environment</span>
          <select value={environment} onChange={(e) => changeEnvironment(e.target.value)} data-testid="connect-environment" disabled={busy}>
            {ENVIRONMENTS.map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>

        <label className="field">
          <span className="label">How to sign in</span>
          <select value={method} onChange={(e) => setMethod(e.target.value as Method)} data-testid="connect-method" disabled={busy}>
            <option value="builtin" disabled={environment !== 'local'}>
              Built-in app (local sandbox only)
            </option>
            <option value="own">My Lever OAuth app (Client ID, Client Secret, scopes)</option>
            <option value="api_key">API key</option>
          </select>
          <span className="help">
            {method === 'builtin' && 'Leverflow’s own app for the built-in sandbox: you approve access in a pop-up window.'}
            {method === 'own' && 'An OAuth app registered with Lever (Settings › Integrations and API). You approve access in a pop-up window.'}
            {method === 'api_key' && 'A key made by a Lever Super Admin in Settings › Integrations and API › API Credentials.'}
          </span>
        </label>

        {method === 'own' && (
          <>
            <label className="field">
              <span className="label">Client ID</span>
              <input value={clientId} onChange={(e) => setClientId(e.target.value)} autoComplete="off" spellCheck={false} data-testid="connect-client-id" disabled={busy} />
            </label>
            <SecretField label="Client Secret" value={clientSecret} onChange={setClientSecret} testId="connect-client-secret" disabled={busy} />
            <fieldset className="field" disabled={busy}>
              <legend>What Leverflow may do in Lever</legend>
              <span className="help">
                Offline access is always asked for, so the connection keeps working. Lever allows about 20 scopes per app. “Read and change” includes
                reading.
              </span>
              <div className="row small">
                <button type="button" className="link" onClick={() => setScopes(DEFAULT_SCOPES)}>
                  Use the recommended set
                </button>
                <span className="muted">
                  {scopes.length} chosen{scopes.length > MAX_SCOPES ? ' — more than Lever usually allows' : ''}
                </span>
              </div>
              <div className="scope-list" data-testid="connect-scopes">
                {LEVER_SCOPES.map((s) => (
                  <label key={s} className="check" title={s}>
                    <input
                      type="checkbox"
                      checked={scopes.includes(s)}
                      onChange={(e) => setScopes((list) => (e.target.checked ? [...list, s] : list.filter((x) => x !== s)))}
                      value={s}
                    />
                    {scopeWord(s)}
                  </label>
                ))}
              </div>
              {scopes.length === 0 && <span className="problem">Choose at least one.</span>}
            </fieldset>
          </>
        )}

        {method === 'api_key' && (
          <SecretField label="API key" value={apiKey} onChange={setApiKey} testId="connect-api-key" disabled={busy} />
        )}

        {waiting && (
          <div className="alert info" role="status" data-testid="connect-waiting">
            Approve access in the Lever window that opened, then come back here.{' '}
            {waiting.url && (
              <>
                No window? Your browser may have blocked it:{' '}
                <a href={waiting.url} target="_blank" rel="opener">
                  open Lever’s sign-in page
                </a>
                .{' '}
              </>
            )}
            <button type="button" className="link" onClick={() => flowRef.current?.cancel()}>
              Stop waiting
            </button>
          </div>
        )}
        {error && (
          <div className="alert error" role="alert" data-testid="connect-error">
            {error}
          </div>
        )}
        {/* Enter in a field submits: the submit button sits in the dialog's footer. */}
        <button type="submit" hidden tabIndex={-1} aria-hidden="true" />
      </form>
    </Modal>
  );
}

/** A secret typed once (a Client Secret, an API key): hidden, never autofilled, never shown again. */
function SecretField({ label, value, onChange, testId, disabled }: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  testId: string;
  disabled: boolean;
}) {
  return (
    <label className="field">
      <span className="label">{label}</span>
      <input
        type="password"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        autoComplete="new-password"
        spellCheck={false}
        data-testid={testId}
        disabled={disabled}
      />
      <span className="help">Kept encrypted on the server and never shown again.</span>
    </label>
  );
}
