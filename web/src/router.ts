// A small router over the History API: the server answers every editor
// path with index.html, so links can be shared and reloaded.
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();

function notify() {
  for (const l of listeners) l();
}

/**
 * A page with unsaved work sets a guard: it returns the question to ask
 * before leaving, or null when there is nothing to lose.
 */
let guard: (() => string | null) | null = null;

export function setNavigationGuard(g: (() => string | null) | null): void {
  guard = g;
}

/** Asks the guard, if any, whether leaving is fine. */
export function mayLeave(): boolean {
  const question = guard ? guard() : null;
  return !question || window.confirm(question);
}

/** The URL shown, to put back when the user stays after Back or Forward. */
let shown = typeof window !== 'undefined' ? window.location.pathname + window.location.search : '/';

if (typeof window !== 'undefined') {
  window.addEventListener('popstate', () => {
    if (!mayLeave()) {
      window.history.pushState(null, '', shown);
      return;
    }
    shown = window.location.pathname + window.location.search;
    notify();
  });
}

/**
 * Goes to path (with its ?query), adding a history entry unless replace.
 * A user's move (not a replace) asks first when a guard says work would be
 * lost.
 */
export function navigate(path: string, replace = false): void {
  if (!replace && !mayLeave()) return;
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  shown = window.location.pathname + window.location.search;
  notify();
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

function snapshot() {
  return window.location.pathname + window.location.search;
}

/** The current path and query, re-rendering on every navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const loc = useSyncExternalStore(subscribe, snapshot, () => '/');
  const i = loc.indexOf('?');
  return { path: i < 0 ? loc : loc.slice(0, i), query: new URLSearchParams(i < 0 ? '' : loc.slice(i)) };
}

/**
 * Matches path against a pattern such as "/workflows/:id" and returns the
 * parameters (decoded), or null.
 */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      try {
        out[p[i].slice(1)] = decodeURIComponent(s[i]);
      } catch {
        return null; // a malformed escape such as "%": no page
      }
    }
    else if (p[i] !== s[i]) return null;
  }
  return out;
}

/** An anchor that navigates without reloading the page. */
export function linkProps(href: string): { href: string; onClick: (e: React.MouseEvent) => void } {
  return {
    href,
    onClick: (e: React.MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(href);
    },
  };
}
