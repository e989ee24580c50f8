// A form for a step's input, generated from the step type's input schema
// (see schemaForm.ts for the model). Every text input takes << references >>.
import { createContext, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { jsonSyntaxError } from '../components/jsonError';
import type { Schema } from '../api/types';
import { RefInput } from '../refs/RefInput';
import type { RefContext } from '../refs/choices';
import { emptyValue, fieldsFor, hasReference, numberEdit, parseNumberText, removeAtPath, setAtPath, type FieldModel, type PathSegment } from './schemaForm';
import './forms.css';

export interface SchemaFormProps {
  schema: Schema | undefined;
  value: Record<string, unknown>;
  /**
   * The new value. mergeKey is the field's path ("input.opportunity_id")
   * for typing, so an undo history can group keystrokes; undefined for
   * discrete changes (a switch, adding an item).
   */
  onChange(next: Record<string, unknown>, mergeKey?: string): void;
  /** Field path such as "input.opportunity_id" -> message. */
  problems?: Record<string, string>;
  refs: RefContext;
  /** Prefix of the element ids, unique on the page. */
  idPrefix: string;
  /** The path of value (default "input"). */
  path?: string;
}

interface FormCtx {
  refs: RefContext;
  idPrefix: string;
  problems: Record<string, string>;
  set(segs: PathSegment[], v: unknown, mergeKey?: string): void;
  remove(segs: PathSegment[]): void;
  /** Fields the user switched to (true) or from (false) the expression input. */
  modes: Record<string, boolean>;
  setMode(path: string, expr: boolean): void;
}

const Ctx = createContext<FormCtx | null>(null);

function useForm(): FormCtx {
  const c = useContext(Ctx);
  if (!c) throw new Error('a schema form field outside SchemaForm');
  return c;
}

export function fieldId(idPrefix: string, path: string): string {
  return `${idPrefix}-${path}`.replace(/[^\w-]/g, '_');
}

export function SchemaForm({ schema, value, onChange, problems, refs, idPrefix, path = 'input' }: SchemaFormProps) {
  const fields = useMemo(() => fieldsFor(schema, value, { path }), [schema, value, path]);
  const [modes, setModes] = useState<Record<string, boolean>>({});
  // the latest value, so quick successive changes build on each other
  const latest = useRef(value);
  latest.current = value;

  const ctx: FormCtx = {
    refs,
    idPrefix,
    problems: problems ?? {},
    set: (segs, v, mergeKey) => {
      const next = setAtPath(latest.current, segs, v);
      latest.current = next;
      onChange(next, mergeKey);
    },
    remove: (segs) => {
      const next = removeAtPath(latest.current, segs);
      latest.current = next;
      onChange(next);
    },
    modes,
    setMode: (p, expr) => setModes((m) => ({ ...m, [p]: expr })),
  };

  if (fields.length === 0) return <p className="muted small">This step takes no input.</p>;
  return (
    <Ctx.Provider value={ctx}>
      <div className="schema-form">
        {fields.map((f) => (
          <Field key={f.path} f={f} />
        ))}
      </div>
    </Ctx.Provider>
  );
}

/** Shown as the expression input: a reference in a typed field, or switched by the user. */
function exprMode(f: FieldModel, modes: Record<string, boolean>): boolean {
  return modes[f.path] ?? f.isExpression ?? false;
}

function asText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function isItem(f: FieldModel): boolean {
  return f.name.startsWith('[');
}

interface Ids {
  input: string;
  desc?: string;
  problem?: string;
  describedBy?: string;
}

function idsOf(f: FieldModel, idPrefix: string, problem: string | undefined): Ids {
  const input = fieldId(idPrefix, f.path);
  const desc = f.description ? `${input}-desc` : undefined;
  const prob = problem ? `${input}-problem` : undefined;
  return { input, desc, problem: prob, describedBy: [desc, prob].filter(Boolean).join(' ') || undefined };
}

function Field({ f, onRemove }: { f: FieldModel; onRemove?: () => void }) {
  const form = useForm();
  const problem = form.problems[f.path];
  const ids = idsOf(f, form.idPrefix, problem);
  const expr = exprMode(f, form.modes);
  const canExpr = f.kind === 'boolean' || f.kind === 'enum' || f.kind === 'list' || f.kind === 'object';

  if (!expr && (f.kind === 'list' || f.kind === 'object')) {
    return f.kind === 'list' ? <ListField f={f} ids={ids} problem={problem} onRemove={onRemove} /> : <ObjectField f={f} ids={ids} problem={problem} onRemove={onRemove} />;
  }

  const toggle = canExpr ? (
    <button
      type="button"
      className="link small expr-toggle"
      aria-pressed={expr}
      data-testid={`expr-toggle-${f.path}`}
      onClick={() => {
        if (expr) {
          // back to the typed control: a reference or text cannot stay
          if (typeof f.value === 'string') {
            if (f.required || isItem(f)) form.set(f.segments, emptyValue(f.schema));
            else form.remove(f.segments);
          }
          form.setMode(f.path, false);
        } else form.setMode(f.path, true);
      }}
    >
      {expr ? `Use ${f.kind === 'boolean' ? 'a switch' : f.kind === 'enum' ? 'the list' : f.kind === 'list' ? 'a list' : 'fields'}` : 'Use expression'}
    </button>
  ) : null;

  return (
    <div className={'field' + (f.unknownKey ? ' unknown-key' : '')}>
      <div className="field-head">
        <label className="label" htmlFor={ids.input}>
          {f.label}
          {f.required && (
            <span className="required" aria-hidden="true">
              *
            </span>
          )}
        </label>
        {f.sensitive && <span className="badge">sensitive</span>}
        <span className="spacer" />
        {toggle}
        {onRemove && <RemoveButton label={f.label} onRemove={onRemove} />}
      </div>
      {f.description && (
        <div className="help" id={ids.desc}>
          {f.description}
          {f.sensitive && ' Stored as [redacted] in the run history.'}
        </div>
      )}
      {f.unknownKey && <div className="help warn-text">Not an input of this step: remove it unless you know the server reads it.</div>}
      <Control f={f} ids={ids} problem={problem} expr={expr} />
      {problem && (
        <div className="problem" id={ids.problem} data-testid={`problem-${f.path}`}>
          {problem}
        </div>
      )}
    </div>
  );
}

function RemoveButton({ label, onRemove }: { label: string; onRemove: () => void }) {
  return (
    <button type="button" className="icon remove" aria-label={`Remove ${label}`} title={`Remove ${label}`} onClick={onRemove}>
      ×
    </button>
  );
}

type RefCommon = {
  id: string;
  refs: RefContext;
  ariaDescribedBy?: string;
  invalid: boolean;
  required: boolean;
  testId: string;
};

function Control({ f, ids, problem, expr }: { f: FieldModel; ids: Ids; problem?: string; expr: boolean }) {
  const form = useForm();
  const mergeKey = f.path;
  const common: RefCommon = {
    id: ids.input,
    refs: form.refs,
    ariaDescribedBy: ids.describedBy,
    invalid: !!problem,
    required: f.required,
    testId: `field-${f.path}`,
  };
  const setText = (v: string) => {
    if (v === '' && !f.required && !isItem(f)) form.remove(f.segments);
    else form.set(f.segments, v, mergeKey);
  };
  const placeholder = typeof f.example === 'string' ? `e.g. ${f.example}` : f.format === 'duration' ? 'e.g. 30s, 10m, 2h' : undefined;

  if (f.kind === 'json') return <JsonField f={f} ids={ids} problem={problem} />;
  // a number input takes references too: it stays the same input while one is typed
  if (f.kind === 'number' || f.kind === 'integer') return <NumberField f={f} common={common} problem={problem} />;
  if (expr || f.kind === 'text' || f.kind === 'longtext') {
    const multiline = f.kind === 'longtext' || (expr && (f.kind === 'list' || f.kind === 'object'));
    return (
      <>
        <RefInput {...common} value={asText(f.value)} onChange={setText} multiline={multiline} placeholder={expr ? 'a reference, such as <<steps.opp.tags>>' : placeholder} />
        {expr && f.kind !== 'text' && f.kind !== 'longtext' && typeof f.value === 'string' && f.value !== '' && !hasReference(f.value) && (
          <div className="help warn-text">
            This is text, not a {f.kind === 'enum' ? 'choice from the list' : f.kind}: write a reference such as {'<<vars.name>>'}, or switch back.
          </div>
        )}
      </>
    );
  }

  switch (f.kind) {
    case 'boolean': {
      const on = f.value === true;
      return (
        <button
          type="button"
          role="switch"
          id={ids.input}
          className={'form-switch' + (on ? ' on' : '')}
          aria-checked={on}
          aria-required={f.required || undefined}
          aria-describedby={ids.describedBy}
          aria-invalid={problem ? true : undefined}
          data-testid={`field-${f.path}`}
          onClick={() => form.set(f.segments, !on)}
        >
          <span className="switch-track" aria-hidden="true">
            <span className="switch-thumb" />
          </span>
          <span className="switch-text">{f.value === undefined ? (f.default !== undefined ? `Not set (${String(f.default)})` : 'Not set') : on ? 'Yes' : 'No'}</span>
        </button>
      );
    }
    case 'enum': {
      const values = f.enumValues ?? [];
      const current = f.value === undefined ? '' : JSON.stringify(f.value);
      const known = values.some((v) => JSON.stringify(v) === current);
      return (
        <select
          id={ids.input}
          value={current}
          aria-required={f.required || undefined}
          aria-describedby={ids.describedBy}
          aria-invalid={problem ? true : undefined}
          data-testid={`field-${f.path}`}
          onChange={(e) => {
            if (e.target.value === '') form.remove(f.segments);
            else form.set(f.segments, JSON.parse(e.target.value));
          }}
        >
          {(!f.required || f.value === undefined) && <option value="">{f.required ? 'Choose…' : f.default !== undefined ? `Default (${String(f.default)})` : 'Not set'}</option>}
          {!known && current !== '' && <option value={current}>{asText(f.value)} (not in the list)</option>}
          {values.map((v) => (
            <option key={JSON.stringify(v)} value={JSON.stringify(v)}>
              {String(v)}
            </option>
          ))}
        </select>
      );
    }
    default:
      return <JsonField f={f} ids={ids} problem={problem} />;
  }
}

/**
 * A number or integer (or a reference). What is typed stays in the input;
 * the value changes only when the text reads as a number or holds a
 * reference ("-" or "1." on the way to a number change nothing), and
 * emptying the input removes the key (see numberEdit).
 */
function NumberField({ f, common, problem }: { f: FieldModel; common: RefCommon; problem?: string }) {
  const form = useForm();
  const integer = f.kind === 'integer';
  const [draft, setDraft] = useState(() => asText(f.value));
  // the value this input last set: another value came from elsewhere (undo)
  const [shown, setShown] = useState<unknown>(f.value);
  if (f.value !== shown) {
    setShown(f.value);
    setDraft(asText(f.value));
  }
  const parsed = parseNumberText(draft, integer);
  const partial = draft.trim() !== '' && typeof parsed === 'string' && !hasReference(draft);
  const storedText = typeof f.value === 'string' && !hasReference(f.value);
  const what = integer ? 'a whole number' : 'a number';
  return (
    <>
      <RefInput
        {...common}
        value={draft}
        placeholder={f.example !== undefined ? `e.g. ${asText(f.example)}` : what}
        onChange={(v) => {
          setDraft(v);
          const edit = numberEdit(v, integer, { canRemove: !isItem(f), freeText: f.extraKey && !f.schema });
          if (edit.kind === 'set') {
            setShown(edit.value);
            form.set(f.segments, edit.value, f.path);
          } else if (edit.kind === 'remove') {
            setShown(undefined);
            form.remove(f.segments);
          }
        }}
      />
      {(partial || storedText) && !problem && (
        <div className="help warn-text">
          {storedText && !partial ? `This is saved as text, not ${what}: retype it, ` : `Enter ${what}, `}or write a reference such as {'<<vars.limit>>'}.
          {partial && !storedText ? (f.value === undefined ? ' Until then the step has no value here.' : ` Until then the step keeps ${asText(f.value)}.`) : ''}
        </div>
      )}
    </>
  );
}

/** Any JSON value: text (with references) or JSON checked as you type. */
function JsonField({ f, ids, problem }: { f: FieldModel; ids: Ids; problem?: string }) {
  const form = useForm();
  const text = typeof f.value === 'string' && !form.modes[f.path + '#json'];
  const show = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2));
  const [draft, setDraft] = useState(() => show(f.value));
  const [error, setError] = useState('');
  const emitted = useRef<unknown>(f.value);
  useEffect(() => {
    // a change from elsewhere (undo, another panel): show it
    if (f.value !== emitted.current) {
      emitted.current = f.value;
      setDraft(show(f.value));
      setError('');
    }
  }, [f.value]);

  const common = {
    id: ids.input,
    refs: form.refs,
    ariaDescribedBy: [ids.describedBy, error ? `${ids.input}-json` : ''].filter(Boolean).join(' ') || undefined,
    testId: `field-${f.path}`,
    required: f.required,
    multiline: true,
  };
  const modeButton = (
    <button
      type="button"
      className="link small"
      onClick={() => {
        form.setMode(f.path + '#json', text);
        setDraft(show(f.value));
        setError('');
      }}
    >
      {text ? 'Edit as JSON' : 'Edit as text'}
    </button>
  );
  if (text) {
    return (
      <>
        <RefInput
          {...common}
          invalid={!!problem}
          value={f.value as string}
          placeholder="text, a reference such as <<steps.opp>>, or switch to JSON"
          onChange={(v) => {
            emitted.current = v;
            form.set(f.segments, v, f.path);
          }}
        />
        <div className="row small">{modeButton}</div>
      </>
    );
  }
  return (
    <>
      <RefInput
        {...common}
        invalid={!!problem || !!error}
        value={draft}
        placeholder={'JSON, such as {"name": "<<trigger.name>>"}'}
        onChange={(v) => {
          setDraft(v);
          if (v.trim() === '') {
            setError('');
            emitted.current = undefined;
            if (f.required) form.set(f.segments, '', f.path);
            else form.remove(f.segments);
            return;
          }
          try {
            const parsed: unknown = JSON.parse(v);
            setError('');
            emitted.current = parsed;
            form.set(f.segments, parsed, f.path);
          } catch (e) {
            setError(`Not valid JSON yet (${jsonSyntaxError(v) || (e instanceof Error ? e.message : String(e))}); the step keeps its last valid value. Text needs quotes: "like this".`);
          }
        }}
      />
      {error && (
        <div className="problem" id={`${ids.input}-json`} data-testid={`json-error-${f.path}`}>
          {error}
        </div>
      )}
      <div className="row small">{typeof f.value === 'string' || f.value === undefined ? modeButton : null}</div>
    </>
  );
}

function Legend({ f, onRemove }: { f: FieldModel; onRemove?: () => void }) {
  const form = useForm();
  return (
    <legend>
      <span className="label">
        {f.label}
        {f.required && (
          <span className="required" aria-hidden="true">
            *
          </span>
        )}
        {f.required && <span className="sr-only"> (required)</span>}
      </span>
      {!isItem(f) && (
        <button type="button" className="link small expr-toggle" aria-pressed={false} onClick={() => form.setMode(f.path, true)}>
          Use expression
        </button>
      )}
      {onRemove && <RemoveButton label={f.label} onRemove={onRemove} />}
    </legend>
  );
}

function ListField({ f, ids, problem, onRemove }: { f: FieldModel; ids: Ids; problem?: string; onRemove?: () => void }) {
  const form = useForm();
  const items = f.children ?? [];
  const list = Array.isArray(f.value) ? f.value : [];
  return (
    <fieldset className="subform list-field" aria-describedby={ids.describedBy} aria-invalid={problem ? true : undefined} data-testid={`field-${f.path}`}>
      <Legend f={f} onRemove={onRemove} />
      {f.description && (
        <div className="help" id={ids.desc}>
          {f.description}
        </div>
      )}
      {items.length === 0 && <div className="muted small">No items.</div>}
      <ol className="list-items">
        {items.map((item, i) => (
          <li key={item.path}>
            <Field f={{ ...item, label: `${f.label}: item ${i + 1}` }} onRemove={() => form.remove(item.segments)} />
          </li>
        ))}
      </ol>
      <button type="button" className="small add-item" onClick={() => form.set(f.segments, [...list, emptyValue(f.itemSchema)])}>
        Add item
      </button>
      {problem && (
        <div className="problem" id={ids.problem} data-testid={`problem-${f.path}`}>
          {problem}
        </div>
      )}
    </fieldset>
  );
}

function ObjectField({ f, ids, problem, onRemove }: { f: FieldModel; ids: Ids; problem?: string; onRemove?: () => void }) {
  const children = f.children ?? [];
  return (
    <fieldset className="subform object-field" aria-describedby={ids.describedBy} aria-invalid={problem ? true : undefined} data-testid={`field-${f.path}`}>
      <Legend f={f} onRemove={onRemove} />
      {f.description && (
        <div className="help" id={ids.desc}>
          {f.description}
        </div>
      )}
      {children.map((c) =>
        c.extraKey ? (
          <KeyValue key={c.path} parent={f} f={c} />
        ) : (
          <Field key={c.path} f={c} />
        ),
      )}
      {f.allowsExtraKeys && <AddKey parent={f} />}
      {problem && (
        <div className="problem" id={ids.problem} data-testid={`problem-${f.path}`}>
          {problem}
        </div>
      )}
    </fieldset>
  );
}

/** A key of the user's choosing (headers, query): the key, its value, remove. */
function KeyValue({ parent, f }: { parent: FieldModel; f: FieldModel }) {
  const form = useForm();
  const [key, setKey] = useState(f.name);
  const [error, setError] = useState('');
  const keyId = fieldId(form.idPrefix, f.path) + '-key';
  const rename = () => {
    if (key === f.name) return setError('');
    if (key.trim() === '') return setError('A key cannot be empty.');
    const obj = (parent.value ?? {}) as Record<string, unknown>;
    if (key in obj) return setError(`"${key}" is already a key of ${parent.label}.`);
    setError('');
    // rebuild the object with the key renamed in place
    const next: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) next[k === f.name ? key : k] = v;
    form.set(parent.segments, next);
  };
  return (
    <div className="key-value">
      <div className="kv-key">
        <label className="sr-only" htmlFor={keyId}>
          Key of {parent.label}
        </label>
        <input
          id={keyId}
          value={key}
          aria-invalid={error ? true : undefined}
          data-testid={`key-${f.path}`}
          onChange={(e) => setKey(e.target.value)}
          onBlur={rename}
          onKeyDown={(e) => e.key === 'Enter' && rename()}
        />
        {error && <div className="problem">{error}</div>}
      </div>
      <div className="kv-value">
        <Field f={{ ...f, label: `Value of ${f.name}` }} onRemove={() => form.remove(f.segments)} />
      </div>
    </div>
  );
}

function AddKey({ parent }: { parent: FieldModel }) {
  const form = useForm();
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const id = fieldId(form.idPrefix, parent.path) + '-newkey';
  const add = () => {
    const k = key.trim();
    if (!k) return setError('Type a key first.');
    const obj = parent.value && typeof parent.value === 'object' ? (parent.value as Record<string, unknown>) : {};
    if (k in obj) return setError(`"${k}" is already a key of ${parent.label}.`);
    setError('');
    setKey('');
    form.set([...parent.segments, k], '');
  };
  return (
    <div className="add-key">
      <label className="small" htmlFor={id}>
        New key
      </label>
      <div className="row">
        <input
          id={id}
          value={key}
          placeholder="key"
          onChange={(e) => setKey(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }}
          style={{ flex: 1, width: 'auto' }}
        />
        <button type="button" className="small" onClick={add}>
          Add field
        </button>
      </div>
      {error && <div className="problem">{error}</div>}
    </div>
  );
}
