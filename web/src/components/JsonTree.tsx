// A collapsible view of any JSON value: objects and arrays open and close
// with buttons (Enter, Space, or the arrow keys → / ←), long strings are
// cut with "show more", types have their own colours, and Copy buttons put
// the value (or one node of it) on the clipboard as pretty JSON.
import { useState } from 'react';
import './components.css';

export interface JsonTreeProps {
  value: unknown;
  /** A heading for the tree ("Output"). */
  label?: string;
  /** Levels open at first: 1 opens the top object only. Default 2. */
  defaultExpandDepth?: number;
  testId?: string;
}

/** Strings longer than this are cut until "show more". */
const LONG_STRING = 160;
/** Arrays and objects longer than this show their first entries until "show all". */
const MANY = 100;

export function JsonTree({ value, label, defaultExpandDepth = 2, testId }: JsonTreeProps) {
  return (
    <div className="json-tree" data-testid={testId}>
      <div className="json-head">
        {label && <span className="json-label">{label}</span>}
        <span className="spacer" />
        <CopyButton value={value} text="Copy" title={label ? `Copy ${label.toLowerCase()} as JSON` : 'Copy as JSON'} />
      </div>
      {value === undefined ? (
        <div className="muted small">Nothing</div>
      ) : isContainer(value) ? (
        <ul className="json-root">
          <Node value={value} name={null} depth={0} openDepth={defaultExpandDepth} path="" />
        </ul>
      ) : (
        <div className="json-scalar-root">
          <Scalar value={value} />
        </div>
      )}
    </div>
  );
}

type Container = Record<string, unknown> | unknown[];

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

function entriesOf(v: Container): [string, unknown][] {
  return Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
}

function summary(v: Container): string {
  if (Array.isArray(v)) return v.length === 1 ? '1 item' : `${v.length} items`;
  const n = Object.keys(v).length;
  return n === 1 ? '1 field' : `${n} fields`;
}

/** Pretty JSON of any value (undefined -> "null"). */
export function prettyJson(v: unknown): string {
  return JSON.stringify(v, null, 2) ?? 'null';
}

interface NodeProps {
  value: unknown;
  /** The key in the parent object, the index in the parent array, or null at the root. */
  name: string | null;
  inArray?: boolean;
  depth: number;
  openDepth: number;
  path: string;
}

function Node({ value, name, inArray, depth, openDepth, path }: NodeProps) {
  const [open, setOpen] = useState(depth < openDepth);
  const [showAll, setShowAll] = useState(false);
  const key =
    name === null ? null : (
      <span className={inArray ? 'json-index' : 'json-key'}>
        {inArray ? `${name}` : name}
        <span className="json-colon">: </span>
      </span>
    );
  if (!isContainer(value)) {
    return (
      <li className="json-leaf">
        {key}
        <Scalar value={value} />
      </li>
    );
  }
  const entries = entriesOf(value);
  const empty = entries.length === 0;
  const shown = showAll ? entries : entries.slice(0, MANY);
  const brackets = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  const where = path || (Array.isArray(value) ? 'list' : 'object');
  return (
    <li className="json-node">
      <span className="json-line">
        {empty ? (
          <span className="json-toggle-spacer" aria-hidden="true" />
        ) : (
          <button
            type="button"
            className="json-toggle"
            aria-expanded={open}
            aria-label={`${open ? 'Collapse' : 'Expand'} ${where}`}
            onClick={() => setOpen(!open)}
            onKeyDown={(e) => {
              if (e.key === 'ArrowRight' && !open) {
                e.preventDefault();
                setOpen(true);
              } else if (e.key === 'ArrowLeft' && open) {
                e.preventDefault();
                setOpen(false);
              }
            }}
          >
            <span className="json-caret" aria-hidden="true">{open ? '▾' : '▸'}</span>
          </button>
        )}
        {key}
        {empty ? (
          <span className="json-punct">{brackets[0] + brackets[1]}</span>
        ) : (
          <>
            <span className="json-punct">{brackets[0]}</span>
            {!open && (
              <button type="button" className="json-summary link" tabIndex={-1} onClick={() => setOpen(true)}>
                {summary(value)}
              </button>
            )}
            {!open && <span className="json-punct">{brackets[1]}</span>}
          </>
        )}
        {!empty && <CopyButton value={value} text="Copy" small title={`Copy ${where} as JSON`} />}
      </span>
      {open && !empty && (
        <>
          <ul className="json-children">
            {shown.map(([k, v]) => (
              <Node
                key={k}
                value={v}
                name={k}
                inArray={Array.isArray(value)}
                depth={depth + 1}
                openDepth={openDepth}
                path={Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k}
              />
            ))}
            {shown.length < entries.length && (
              <li className="json-more">
                <button type="button" className="link" onClick={() => setShowAll(true)}>
                  Show all {entries.length} ({entries.length - shown.length} more)
                </button>
              </li>
            )}
          </ul>
          <span className="json-punct json-close">{brackets[1]}</span>
        </>
      )}
    </li>
  );
}

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span className="json-null">null</span>;
  switch (typeof value) {
    case 'string':
      return <LongString text={value} />;
    case 'number':
    case 'bigint':
      return <span className="json-number">{String(value)}</span>;
    case 'boolean':
      return <span className="json-boolean">{String(value)}</span>;
    case 'undefined':
      return <span className="json-null">—</span>;
    default:
      return <span>{String(value)}</span>;
  }
}

function LongString({ text }: { text: string }) {
  const [full, setFull] = useState(false);
  const long = text.length > LONG_STRING;
  return (
    <span className="json-string">
      “{long && !full ? text.slice(0, LONG_STRING) + '…' : text}”
      {long && (
        <button type="button" className="link json-more-btn" aria-expanded={full} onClick={() => setFull(!full)}>
          {full ? 'show less' : `show more (${text.length.toLocaleString()} characters)`}
        </button>
      )}
    </span>
  );
}

/** A button copying value as pretty JSON, saying "Copied" for a moment. */
export function CopyButton({ value, text, title, small }: { value: unknown; text: string; title?: string; small?: boolean }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  async function copy() {
    try {
      await navigator.clipboard.writeText(prettyJson(value));
      setState('copied');
    } catch {
      setState('failed');
    }
    window.setTimeout(() => setState('idle'), 1500);
  }
  return (
    <button type="button" className={'json-copy' + (small ? ' small' : '')} title={title} aria-label={title} onClick={copy}>
      {state === 'copied' ? 'Copied ✓' : state === 'failed' ? 'Copy failed' : text}
      <span className="sr-only" aria-live="polite">{state === 'copied' ? 'Copied to the clipboard' : ''}</span>
    </button>
  );
}
