// The app shell: sign-in, the catalogs, the navigation and the pages.
import { useEffect, useState } from 'react';
import { api, ApiError, getToken, setToken, setUnauthorizedHandler } from './api/client';
import { CatalogContext, makeCatalog, type Catalog } from './catalog';
import { linkProps, match, mayLeave, navigate, useLocation } from './router';
import { WorkflowsPage } from './pages/WorkflowsPage';
import { EditorPage } from './editor/EditorPage';
import { RunsPage } from './pages/RunsPage';
import { RunPage } from './pages/RunPage';
import { EventsPage } from './pages/EventsPage';
import { ConnectionsPage } from './pages/ConnectionsPage';
import { ErrorBoundary } from './components/ErrorBoundary';

/** Reads a token handed over in the URL fragment (#token=...) once. */
function takeTokenFromHash() {
  const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (m) {
    setToken(decodeURIComponent(m[1]));
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
}

export function App() {
  const [signedIn, setSignedIn] = useState(() => {
    takeTokenFromHash();
    return getToken() !== '';
  });
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [loadError, setLoadError] = useState('');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setToken('');
      setSignedIn(false);
    });
  }, []);

  useEffect(() => {
    if (!signedIn) return;
    let cancelled = false;
    setLoadError('');
    Promise.all([api.stepTypes(), api.triggerTypes()])
      .then(([s, t]) => !cancelled && setCatalog(makeCatalog(s, t)))
      .catch((e: unknown) => {
        // A 401 brings the sign-in back by itself; anything else is shown.
        if (!cancelled && !(e instanceof ApiError && e.status === 401)) setLoadError(e instanceof Error ? e.message : String(e));
      });
    return () => {
      cancelled = true;
    };
  }, [signedIn, attempt]);

  // Before the first sign-in there is nothing to keep: the page is the form.
  if (!signedIn && !catalog) return <SignIn onDone={() => setSignedIn(true)} />;
  if (loadError) {
    return (
      <div className="page">
        <div className="alert error" role="alert">The editor could not load the step catalog: {loadError}</div>
        <button onClick={() => setAttempt((a) => a + 1)}>Try again</button>
      </div>
    );
  }
  if (!catalog) return <div className="page muted">Loading…</div>;
  return (
    <CatalogContext.Provider value={catalog}>
      <Shell
        onSignOut={() => {
          if (!mayLeave()) return;
          setToken('');
          setCatalog(null);
          setSignedIn(false);
        }}
      />
      {/* A token that expires or is revoked mid-work: sign in again over the
          page, so an unsaved draft stays where it is. */}
      {!signedIn && <SignIn overlay onDone={() => setSignedIn(true)} />}
    </CatalogContext.Provider>
  );
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const { path } = useLocation();
  const section = path.startsWith('/runs') ? 'runs' : path.startsWith('/events') ? 'events' : path.startsWith('/connections') ? 'connections' : 'workflows';
  let page: React.ReactNode;
  let m: Record<string, string> | null;
  if (path === '/' || path === '/workflows') page = <WorkflowsPage />;
  else if (path === '/workflows/new') page = <EditorPage key="new" workflowId={null} />;
  else if ((m = match('/workflows/:id', path))) page = <EditorPage key={m.id} workflowId={m.id} />;
  else if (path === '/runs') page = <RunsPage />;
  else if ((m = match('/runs/:id', path))) page = <RunPage key={m.id} runId={m.id} />;
  else if (path === '/events') page = <EventsPage />;
  else if (path === '/connections') page = <ConnectionsPage />;
  else page = <div className="page"><h1>Not found</h1><p>No page at {path}. <a {...linkProps('/')}>Go to the workflows</a>.</p></div>;
  return (
    <div className="shell">
      <nav className="topnav" aria-label="Main">
        <a className="brand" {...linkProps('/')}>Leverflow</a>
        <a aria-current={section === 'workflows' ? 'page' : undefined} {...linkProps('/')}>Workflows</a>
        <a aria-current={section === 'runs' ? 'page' : undefined} {...linkProps('/runs')}>Runs</a>
        <a aria-current={section === 'events' ? 'page' : undefined} {...linkProps('/events')}>Events</a>
        <a aria-current={section === 'connections' ? 'page' : undefined} {...linkProps('/connections')}>Connections</a>
        <span className="spacer" />
        <button className="link" onClick={onSignOut}>Sign out</button>
      </nav>
      <main className="main">
        <ErrorBoundary key={path}>{page}</ErrorBoundary>
      </main>
    </div>
  );
}

function SignIn({ onDone, overlay = false }: { onDone: () => void; overlay?: boolean }) {
  const [token, setTok] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError('');
    setToken(token.trim());
    try {
      await api.listWorkflows({ limit: 1 });
      onDone();
      if (window.location.pathname === '/signin') navigate('/', true);
    } catch (err) {
      setToken('');
      setError(err instanceof ApiError && err.status === 401
        ? 'That token was not accepted. Use the admin token `leverflow serve` printed at its first start, or make one with `leverflow token create`.'
        : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className={overlay ? 'signin signin-overlay' : 'signin'} role={overlay ? 'dialog' : undefined} aria-modal={overlay || undefined} aria-labelledby="signin-title">
      <form className="card" onSubmit={submit}>
        <h1 id="signin-title">{overlay ? 'Sign in again' : 'Sign in to Leverflow'}</h1>
        {overlay && <p>The server no longer accepts the token this page used (it was revoked, or the server was reset). Sign in again to go on: what you were editing is kept.</p>}
        <p className="muted">Paste an API token: the admin token <code>leverflow serve</code> printed at its first start, or one from <code>leverflow token create</code>.</p>
        <label className="field">
          <span className="label">API token</span>
          <input type="password" autoFocus value={token} onChange={(e) => setTok(e.target.value)} autoComplete="off" />
        </label>
        {error && <div className="alert error" role="alert">{error}</div>}
        <button className="primary" type="submit" disabled={busy || token.trim() === ''}>Sign in</button>
      </form>
    </div>
  );
}
