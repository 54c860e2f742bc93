// Small building blocks every page uses: labelled fields with their validation message, the
// error banner, and the JSON editor.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiFailure, type AtlasError } from './api.js';
import { highlightJson } from './highlight.js';

/** An Atlas error, and the form field it names when it names one (MISSING_ATTRIBUTE name, INVALID_ATTRIBUTE tier...). */
export interface FormError {
  error: AtlasError;
  field?: string;
}

/**
 * Which field an error belongs to: the one its parameters name, else the one its code is about
 * (codeFields: STREAM_PROCESSOR_GENERIC_ERROR tells what is wrong with a pipeline).
 */
export function formError(thrown: unknown, fields: readonly string[], codeFields: Readonly<Record<string, string>> = {}): FormError {
  const error = thrown instanceof ApiFailure ? thrown.error
    : { status: 0, errorCode: 'CLIENT_ERROR', detail: thrown instanceof Error ? thrown.message : String(thrown), parameters: [] };
  const named = error.parameters.filter((p): p is string => typeof p === 'string');
  const field = fields.find((f) => named.some((p) => p === f || p.endsWith(`.${f}`))) ?? codeFields[error.errorCode];
  return { error, field };
}

export function ErrorBanner({ failure }: { failure?: FormError }) {
  if (!failure || failure.field) return null;
  return <p class="error" role="alert"><strong>{failure.error.errorCode}</strong> {failure.error.detail}</p>;
}

interface FieldProps {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  failure?: FormError;
  /** The name Atlas uses for the field in its error parameters. */
  name: string;
  type?: 'text' | 'password';
  hint?: string;
  options?: readonly string[];
  required?: boolean;
}

export function Field({ id, label, value, onInput, failure, name, type = 'text', hint, options, required }: FieldProps) {
  const message = failure?.field === name ? `${failure.error.errorCode}: ${failure.error.detail}` : undefined;
  const described = [hint ? `${id}-hint` : '', message ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = { id, name, 'aria-invalid': message ? true : undefined, 'aria-describedby': described, required };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {options
        ? <select {...common} value={value} onChange={(e) => onInput((e.target as HTMLSelectElement).value)}>
            {options.map((o) => <option value={o}>{o}</option>)}
          </select>
        : type === 'password'
          ? <input {...common} type="password" value={value} autocomplete="new-password" onInput={(e) => onInput((e.target as HTMLInputElement).value)} />
          : <input {...common} type="text" value={value} autocomplete="off" onInput={(e) => onInput((e.target as HTMLInputElement).value)} />}
      {hint && <small id={`${id}-hint`}>{hint}</small>}
      {message && <p id={`${id}-error`} class="field-error" role="alert">{message}</p>}
    </div>
  );
}

/**
 * A textarea with JSON syntax colours drawn underneath it: the textarea keeps native editing,
 * selection and screen-reader support; the highlighted copy is hidden from assistive tech.
 */
export function JsonEditor({ id, label, value, onInput, failure, name, rows = 10 }: {
  id: string; label: string; value: string; onInput: (v: string) => void; failure?: FormError; name: string; rows?: number;
}) {
  const [scroll, setScroll] = useState({ top: 0, left: 0 });
  let syntax: string | undefined;
  try {
    JSON.parse(value);
  } catch (error) {
    syntax = (error as Error).message;
  }
  const message = failure?.field === name ? `${failure.error.errorCode}: ${failure.error.detail}` : undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="json-editor" style={{ '--rows': rows }}>
        <pre aria-hidden="true" style={{ transform: `translate(${-scroll.left}px, ${-scroll.top}px)` }}>
          <code dangerouslySetInnerHTML={{ __html: `${highlightJson(value)}\n` }} />
        </pre>
        <textarea id={id} name={name} rows={rows} spellcheck={false} value={value} aria-invalid={message || syntax ? true : undefined}
          aria-describedby={`${id}-status`}
          onInput={(e) => onInput((e.target as HTMLTextAreaElement).value)}
          onScroll={(e) => setScroll({ top: (e.target as HTMLElement).scrollTop, left: (e.target as HTMLElement).scrollLeft })} />
      </div>
      <p id={`${id}-status`} class={message || syntax ? 'field-error' : 'ok'} role={message ? 'alert' : undefined}>
        {message ?? (syntax ? `Not valid JSON yet: ${syntax}` : 'Valid JSON')}
      </p>
    </div>
  );
}

/** A JSON editor's text parsed; a syntax error is reported against that editor's field. */
export function parseEditorJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw editorFailure(field, (error as Error).message);
  }
}

/** What is wrong with a JSON editor's text, before anything is sent. */
export function editorFailure(field: string, message: string): ApiFailure {
  return new ApiFailure({ status: 0, errorCode: 'INVALID_JSON', detail: message, parameters: [field] });
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return <section aria-labelledby={`h-${title}`}><h2 id={`h-${title}`}>{title}</h2>{children}</section>;
}

/** Runs an action, reporting a failure to setFailure; true when it succeeded. */
export async function attempt(action: () => Promise<unknown>, fields: readonly string[], setFailure: (f?: FormError) => void,
  codeFields?: Readonly<Record<string, string>>): Promise<boolean> {
  try {
    await action();
    setFailure(undefined);
    return true;
  } catch (error) {
    setFailure(formError(error, fields, codeFields));
    return false;
  }
}
