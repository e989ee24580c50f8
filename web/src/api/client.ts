// The editor's only way to the server: JSON over HTTP to /api/v1 with the
// bearer token the user signed in with.
import type {
  ApiErrorBody,
  Connection,
  ConnectionTest,
  InboxEvent,
  Problem,
  Run,
  RunPage,
  RunSummary,
  StepType,
  TriggerType,
  ValidationResult,
  Workflow,
  WorkflowDiff,
  WorkflowListItem,
  WorkflowVersionInfo,
  WorkflowView,
} from './types';

const TOKEN_KEY = 'leverflow.token';

export function getToken(): string {
  return localStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(token: string): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** A failed API call: the HTTP status and the server's error body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown[];
  constructor(status: number, code: string, message: string, details: unknown[]) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** The validation problems of a 422 invalid_workflow, else []. */
  get problems(): Problem[] {
    return this.details.filter(
      (d): d is Problem => typeof d === 'object' && d !== null && 'path' in d && 'message' in d,
    );
  }
}

/** Called when the server answers 401: the app shows the sign-in page. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const url = new URL('/api/v1' + path, window.location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  const token = getToken();
  if (token) headers.Authorization = 'Bearer ' + token;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(url, { method: opts.method ?? 'GET', headers, body, signal: opts.signal, credentials: 'same-origin' });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The server could not be reached: is `leverflow serve` running?', []);
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const err = (data as ApiErrorBody | undefined)?.error;
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.message ?? `The server answered ${res.status}`, err?.details ?? []);
  }
  return data as T;
}

export const api = {
  stepTypes: () => request<{ step_types: StepType[] }>('/step-types').then((r) => r.step_types),
  triggerTypes: () => request<{ trigger_types: TriggerType[] }>('/trigger-types').then((r) => r.trigger_types),

  listWorkflows: (query: { enabled?: boolean; after?: string; limit?: number } = {}, signal?: AbortSignal) =>
    request<{ workflows: WorkflowListItem[]; next: string | null }>('/workflows', { query, signal }),
  getWorkflow: (id: string, version?: number) => request<WorkflowView>(`/workflows/${encodeURIComponent(id)}`, { query: { version } }),
  createWorkflow: (wf: Workflow | string, id?: string) => request<WorkflowView>('/workflows', { method: 'POST', body: wf, query: { id } }),
  updateWorkflow: (id: string, wf: Workflow | string) => request<WorkflowView>(`/workflows/${encodeURIComponent(id)}`, { method: 'PUT', body: wf }),
  deleteWorkflow: (id: string) => request<void>(`/workflows/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  validateWorkflow: (wf: Workflow | string) => request<ValidationResult>('/workflows/validate', { method: 'POST', body: wf }),
  listVersions: (id: string) =>
    request<{ workflow_id: string; versions: WorkflowVersionInfo[] }>(`/workflows/${encodeURIComponent(id)}/versions`).then((r) => r.versions),
  diffWorkflow: (id: string, from: number, to: number) =>
    request<WorkflowDiff>(`/workflows/${encodeURIComponent(id)}/diff`, { query: { from, to } }),
  enableWorkflow: (id: string) => request<unknown>(`/workflows/${encodeURIComponent(id)}/enable`, { method: 'POST' }),
  disableWorkflow: (id: string) => request<unknown>(`/workflows/${encodeURIComponent(id)}/disable`, { method: 'POST' }),

  /** Starts a run; with wait it answers when the run ends (or the wait passes). */
  startRun: (id: string, trigger: unknown, wait?: string) =>
    request<RunSummary | Run>(`/workflows/${encodeURIComponent(id)}/runs`, { method: 'POST', body: trigger ?? {}, query: { wait } }),
  /** Runs one step of a (possibly unsaved) workflow with the given upstream outputs. */
  testStep: (body: { workflow: Workflow; step_id: string; trigger: unknown; steps: Record<string, unknown>; item?: unknown; index?: number }) =>
    request<{ step_id: string; status: 'succeeded' | 'failed'; input: unknown; output: unknown; error: string; duration_ms: number }>(
      '/workflows/test-step',
      { method: 'POST', body },
    ),
  listRuns: (query: { workflow_id?: string; status?: string; trigger_type?: string; event_id?: string; since?: string; until?: string; after?: string; limit?: number } = {}, signal?: AbortSignal) =>
    request<RunPage>('/runs', { query, signal }),
  getRun: (id: string, signal?: AbortSignal) => request<Run>(`/runs/${encodeURIComponent(id)}`, { signal }),
  cancelRun: (id: string) => request<RunSummary>(`/runs/${encodeURIComponent(id)}/cancel`, { method: 'POST' }),
  /** from: "failed" (the default: from the failed steps) or "start". */
  retryRun: (id: string, from: 'failed' | 'start' = 'failed') =>
    request<RunSummary>(`/runs/${encodeURIComponent(id)}/retry`, { method: 'POST', body: { from } }),
  /** Retries every failed run that matches the filter (admin). */
  retryRuns: (filter: { workflow_id?: string; status?: 'failed' | 'cancelled'; trigger_type?: string; since?: string; until?: string; from?: 'failed' | 'start'; max?: number }) =>
    request<{ retried: string[]; count: number }>('/runs/retry', { method: 'POST', body: filter }),

  listConnections: () => request<{ connections: Connection[] }>('/connections').then((r) => r.connections),
  getConnection: (name: string) => request<Connection>(`/connections/${encodeURIComponent(name)}`),
  createApiKeyConnection: (body: { name: string; environment: string; api_key: string; replace?: boolean; confirm_account_change?: boolean }) =>
    request<Connection>('/connections', { method: 'POST', body: { ...body, auth: 'api_key' } }),
  deleteConnection: (name: string) => request<void>(`/connections/${encodeURIComponent(name)}`, { method: 'DELETE' }),
  /** GET through a connection's proxy: any Lever endpoint, answered as Lever answers (admin). */
  leverGet: <T = unknown>(connection: string, path: string, query?: Record<string, string | number>) =>
    request<T>(`/connections/${encodeURIComponent(connection)}/proxy/${path.replace(/^\//, '')}`, { query }),
  testConnection: (name: string) => request<ConnectionTest>(`/connections/${encodeURIComponent(name)}/test`, { method: 'POST' }),

  listEvents: (query: { type?: string; source?: string; connection?: string; status?: string; since?: string; until?: string; after?: string; limit?: number } = {}, signal?: AbortSignal) =>
    request<{ events: InboxEvent[]; next: string | null }>('/events', { query, signal }),
  getEvent: (id: string) => request<InboxEvent>(`/events/${encodeURIComponent(id)}`),
  replayEvent: (id: string) => request<unknown>(`/events/${encodeURIComponent(id)}/replay`, { method: 'POST' }),
};
