// The shapes the server's API sends and takes (see DESIGN.md and
// /api/v1/openapi.json). Workflow JSON is kept as the user wrote it: the
// editor edits these objects and never drops a field it does not know.

/** A JSON schema as the step catalog describes inputs and outputs. */
export interface Schema {
  type: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'any' | string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  default?: unknown;
  /** "duration", "date-time", "uri", "expression". */
  format?: string;
  additionalProperties?: boolean;
  'x-sensitive'?: boolean;
  example?: unknown;
}

export interface StepExample {
  name: string;
  input?: unknown;
  output?: unknown;
  error?: string;
}

/** One entry of GET /step-types. */
export interface StepType {
  type: string;
  title: string;
  /** "Lever", "Logic", "HTTP", "Timing", ... */
  category: string;
  description: string;
  input?: Schema;
  output?: Schema;
  /** Fixed branch names (condition: true/false). A switch's come from its cases. */
  branches?: string[];
  /** The input field holding a switch's cases, whose names are more branches. */
  case_branches?: string;
  needs_connection?: boolean;
  container?: boolean;
  examples?: StepExample[];
  [key: string]: unknown;
}

/** One entry of GET /trigger-types. */
export interface TriggerType {
  type: string;
  title: string;
  category: string;
  description: string;
  needs_connection: boolean;
  /** "api", "schedule", "webhook", "poll". */
  delivery: string;
  lever_events?: string[];
  /** The schema of `trigger` in references. */
  data?: Schema;
  example?: unknown;
}

export interface Position {
  x: number;
  y: number;
}

export interface RetryPolicy {
  max_attempts?: number;
  backoff?: 'fixed' | 'exponential' | string;
  initial?: string;
  max?: string;
}

export interface Edge {
  from: string;
  to: string;
  branch?: string;
}

export interface Step {
  id: string;
  type: string;
  name?: string;
  connection?: string;
  input?: Record<string, unknown>;
  retry?: RetryPolicy;
  timeout?: string;
  on_error?: 'fail' | 'continue' | string;
  /** A fanout's body. */
  steps?: Step[];
  edges?: Edge[];
  position?: Position;
  [key: string]: unknown;
}

export interface Trigger {
  type: string;
  connection?: string;
  cron?: string;
  timezone?: string;
  overlap?: string;
  catch_up?: string;
  catch_up_max?: number;
  poll_interval?: string;
  position?: Position;
  [key: string]: unknown;
}

export interface Workflow {
  name: string;
  description?: string;
  trigger: Trigger;
  vars?: Record<string, unknown>;
  steps: Step[];
  edges?: Edge[];
  [key: string]: unknown;
}

/** A validation problem: `path` such as "steps[2].input.opportunity_id". */
export interface Problem {
  path: string;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  problems: Problem[];
}

/** GET /workflows/:id and the answers of POST/PUT. */
export interface WorkflowView {
  id: string;
  version: number;
  name: string;
  enabled: boolean;
  created_at: string;
  workflow: Workflow;
}

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface RunRef {
  id: string;
  status: RunStatus;
  created_at: string;
}

/** One entry of GET /workflows. */
export interface WorkflowListItem {
  id: string;
  name: string;
  version: number;
  enabled: boolean;
  trigger: { type: string; connection?: string };
  created_at: string;
  updated_at: string;
  last_run: RunRef | null;
  run_counts: Record<RunStatus, number>;
}

export interface WorkflowVersionInfo {
  version: number;
  name: string;
  created_at: string;
}

export interface StepRun {
  step_id: string;
  type: string;
  status: StepStatus;
  input: unknown;
  output: unknown;
  error: string;
  branch?: string;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  wake_at?: string | null;
}

export interface RunSummary {
  id: string;
  workflow_id: string;
  version: number;
  status: RunStatus;
  error: string;
  trigger?: unknown;
  trigger_type?: string;
  event_id?: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  wake_at?: string | null;
  cancel_requested?: boolean;
  wait_reason?: string;
}

/**
 * GET /runs/:id. `steps` is keyed by step run key: the step id, or inside a
 * fanout "<fanout id>[<index>].<step id>".
 */
export interface Run extends RunSummary {
  steps: Record<string, StepRun>;
}

export interface RunPage {
  runs: RunSummary[];
  next: string | null;
}

export interface ConnectionAccount {
  name?: string;
  user_id?: string;
  user_email?: string;
  super_admin_id?: string;
}

export interface Connection {
  name: string;
  user_id: string;
  environment: 'production' | 'sandbox' | 'local' | string;
  auth: 'oauth' | 'api_key' | string;
  /** "connected", "needs_reauth", ... */
  status: string;
  /** Why the status is what it is (needs_reauth: the error Lever gave). */
  status_message?: string;
  /** The steps that fix the status, in order. */
  fix?: string[];
  account?: ConnectionAccount;
  client_id?: string;
  scopes?: string[];
  /** Refresh-token expiry warnings (14 days ahead). */
  warnings?: string[];
  refresh_expires_at?: string;
  refresh_idle_expires_at?: string;
  webhooks?: { url: string; events: { event: string; id: string; created_at: string }[] };
  created_at: string;
  updated_at: string;
  [key: string]: unknown;
}

export interface InboxEvent {
  id: string;
  source: string;
  connection: string;
  type: string;
  status: string;
  error: string;
  received_at: string;
  routed_at: string | null;
  replays: number;
  run_ids: string[];
  payload?: unknown;
  /** GET /events/:id only: the runs the event started. */
  runs?: { id: string; workflow_id: string; version: number; status: RunStatus; error: string; created_at: string; finished_at: string | null }[];
}

/** POST /connections/:name/test. */
export interface ConnectionTest {
  connection: Connection;
  account: ConnectionAccount;
  latency_ms: number;
}

/** The error body every failed API call answers with. */
export interface ApiErrorBody {
  error: { code: string; message: string; details: unknown[] };
}

/** One change of GET /workflows/:id/diff. */
export interface Change {
  path: string;
  op: 'add' | 'remove' | 'replace' | string;
  from?: unknown;
  to?: unknown;
  step_id?: string;
}

export interface WorkflowDiff {
  workflow_id: string;
  from: number;
  to: number;
  changes: Change[];
}
