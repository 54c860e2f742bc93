// Connections of the chosen workspace: list, create, edit, delete. Kafka, Cluster, Https and
// Sample have forms of their own; every other type Atlas serves, and any connection on request,
// is written as its JSON request body. An update replaces the whole connection (as Atlas's
// PATCH does), so an edit starts from the connection as the API returns it and the form only
// changes its own fields: nothing the form does not show is lost.
import { useEffect, useState } from 'preact/hooks';
import { CONNECTION_TYPES } from '../../src/model/connection-types.js';
import { paths, type Page } from './api.js';
import type { Scope } from './main.js';
import { attempt, editorFailure, ErrorBanner, Field, JsonEditor, parseEditorJson, Section, type FormError } from './ui.js';

type Body = Record<string, unknown>;

interface Connection extends Body {
  name: string;
  type: string;
  bootstrapServers?: string;
  clusterName?: string;
  url?: string;
  schemaRegistryUrls?: string[];
  aws?: { roleArn?: string };
  authentication?: { mechanism?: string; username?: string };
  security?: { protocol?: string };
}

/** The types with a form; the others are edited as JSON. */
const FORM_TYPES: readonly string[] = ['Kafka', 'Cluster', 'Https', 'Sample'];
/** What the server fills in its answers, never part of a request body. */
const SERVER_FILLED = ['id', 'state', 'region', 'links'];
const FIELDS = ['name', 'type', 'bootstrapServers', 'mechanism', 'username', 'password', 'protocol', 'clusterName', 'url'] as const;
/** In the JSON editor, whatever Atlas finds wrong with the body is shown under the editor. */
const BODY_ERRORS = Object.fromEntries(['VALIDATION_ERROR', 'MISSING_ATTRIBUTE', 'INVALID_ATTRIBUTE', 'INVALID_ENUM_VALUE', 'INVALID_JSON',
  'INVALID_JSON_ATTRIBUTE', 'MALFORMED_JSON', 'STREAM_CONNECTION_NAME_ALREADY_EXISTS'].map((code) => [code, 'body']));
const JSON_HINT = 'Secrets shown as **** (headers, config entries, the password in a URL) are kept when sent back unchanged. '
  + 'Write-only secrets (Kafka\'s authentication.password, sslKey and sslKeyPassword, a schema registry\'s password) are never returned: '
  + 'an update replaces the whole connection, so enter them again or the update refuses or removes them.';
type Form = Record<(typeof FIELDS)[number], string>;
const NO_LOGIN = 'none';
const EMPTY: Form = { name: '', type: 'Kafka', bootstrapServers: '', mechanism: 'PLAIN', username: '', password: '', protocol: 'PLAINTEXT', clusterName: '', url: '' };

const objectAt = (body: Body, key: string): Body => (typeof body[key] === 'object' && body[key] !== null ? body[key] as Body : {});
const pretty = (body: Body) => JSON.stringify(body, null, 2);

/** The request body: `base` (the connection being edited, or nothing) with the form's fields written over it. */
function bodyOf(form: Form, base: Body): Body {
  const body: Body = { ...base, name: form.name, type: form.type };
  if (form.type === 'Kafka') {
    body['bootstrapServers'] = form.bootstrapServers;
    body['security'] = { ...objectAt(base, 'security'), protocol: form.protocol };
    // A local broker usually has no login: "none" sends no authentication at all.
    if (form.mechanism === NO_LOGIN) delete body['authentication'];
    else body['authentication'] = { ...objectAt(base, 'authentication'), mechanism: form.mechanism, username: form.username, password: form.password };
  } else if (form.type === 'Cluster') {
    body['clusterName'] = form.clusterName;
    body['dbRoleToExecute'] ??= { role: 'atlasAdmin', type: 'BUILT_IN' };
  } else if (form.type === 'Https') {
    body['url'] = form.url;
  }
  return body;
}

/** A connection as the API returns it, without what the server fills: what an update sends back. */
function requestBodyOf(c: Connection): Body {
  return Object.fromEntries(Object.entries(c).filter(([key]) => !SERVER_FILLED.includes(key)));
}

function parseBody(text: string): Body {
  const parsed = parseEditorJson(text, 'body');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw editorFailure('body', 'The body must be a JSON object');
  return parsed as Body;
}

function describe(c: Connection): string {
  return c.bootstrapServers ?? c.clusterName ?? c.url ?? c.schemaRegistryUrls?.join(', ') ?? c.aws?.roleArn ?? '';
}

export function Connections({ scope }: { scope: Scope }) {
  const { session, groupId, workspace } = scope;
  const [list, setList] = useState<Connection[]>([]);
  const [listFailure, setListFailure] = useState<FormError>();
  const [form, setForm] = useState<Form>(EMPTY);
  /** The connection being edited, as a request body; undefined while creating. */
  const [editing, setEditing] = useState<{ name: string; body: Body }>();
  /** The JSON editor's text, while the body is written as JSON. */
  const [json, setJson] = useState<string>();
  const [failure, setFailure] = useState<FormError>();
  const load = () => attempt(async () => setList(workspace ? (await session.call<Page<Connection>>('GET', paths.connections(groupId, workspace))).results : []), [], setListFailure);
  useEffect(() => { void load(); }, [groupId, workspace]);
  const set = (key: keyof Form) => (value: string) => setForm({ ...form, [key]: value });
  const chooseType = (type: string) => {
    setForm({ ...form, type });
    setJson(FORM_TYPES.includes(type) ? undefined : pretty({ name: form.name, type }));
  };
  const reset = () => {
    setEditing(undefined);
    setForm(EMPTY);
    setJson(undefined);
    setFailure(undefined);
  };
  const edit = (c: Connection, asJson: boolean) => {
    const body = requestBodyOf(c);
    setEditing({ name: c.name, body });
    setFailure(undefined);
    setJson(asJson || !FORM_TYPES.includes(c.type) ? pretty(body) : undefined);
    setForm({ ...EMPTY, name: c.name, type: c.type, bootstrapServers: c.bootstrapServers ?? '', clusterName: c.clusterName ?? '', url: c.url ?? '',
      mechanism: c.authentication?.mechanism ?? NO_LOGIN, username: c.authentication?.username ?? '', protocol: c.security?.protocol ?? 'PLAINTEXT' });
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const ok = json === undefined
      ? await attempt(() => (editing
        ? session.call('PATCH', paths.connection(groupId, workspace, editing.name), bodyOf(form, editing.body))
        : session.call('POST', paths.connections(groupId, workspace), bodyOf(form, {}))), FIELDS, setFailure)
      : await attempt(() => (editing
        ? session.call('PATCH', paths.connection(groupId, workspace, editing.name), parseBody(json))
        : session.call('POST', paths.connections(groupId, workspace), parseBody(json))), [], setFailure, BODY_ERRORS);
    if (ok) {
      reset();
      await load();
    }
  };
  const remove = async (name: string) => {
    if (await attempt(() => session.call('DELETE', paths.connection(groupId, workspace, name)), [], setListFailure)) await load();
  };
  if (!workspace) return <><h1>Connections</h1><p>Create a workspace first.</p></>;
  return (
    <>
      <h1>Connections of {workspace}</h1>
      <Section title="Connections">
        <ErrorBanner failure={listFailure} />
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Where</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {list.map((c) => (
              <tr>
                <th scope="row">{c.name}</th><td>{c.type}</td><td>{describe(c)}</td>
                <td>
                  <button type="button" onClick={() => edit(c, false)}>Edit {c.name}</button>
                  {FORM_TYPES.includes(c.type) && <button type="button" onClick={() => edit(c, true)}>Edit {c.name} as JSON</button>}
                  <button type="button" class="danger" onClick={() => remove(c.name)}>Delete {c.name}</button>
                </td>
              </tr>
            ))}
            {list.length === 0 && <tr><td colSpan={4}>No connection yet.</td></tr>}
          </tbody>
        </table>
      </Section>
      <Section title={editing ? `Edit ${editing.name}` : 'Create a connection'}>
        <form onSubmit={submit}>
          {!editing && json === undefined && <Field id="c-name" name="name" label="Name" value={form.name} onInput={set('name')} failure={failure}
            hint="The Sample type needs the name sample_stream_solar." />}
          {!editing && <Field id="c-type" name="type" label="Type" value={form.type} onInput={chooseType} failure={failure} options={CONNECTION_TYPES} />}
          {json !== undefined && <>
            <JsonEditor id="c-body" name="body" label={`Request body (${editing ? 'what the API returned, without the fields the server fills' : 'a JSON object'})`}
              value={json} onInput={setJson} failure={failure} rows={12} />
            <p id="c-body-hint"><small>{JSON_HINT}</small></p>
          </>}
          {json === undefined && form.type === 'Kafka' && <>
            <Field id="c-bootstrap" name="bootstrapServers" label="Bootstrap servers" value={form.bootstrapServers} onInput={set('bootstrapServers')} failure={failure} hint="host:port, comma-separated" />
            <Field id="c-protocol" name="protocol" label="Security protocol" value={form.protocol} onInput={set('protocol')} failure={failure} options={['PLAINTEXT', 'SASL_PLAINTEXT', 'SASL_SSL', 'SSL']} />
            <Field id="c-mechanism" name="mechanism" label="SASL mechanism" value={form.mechanism} onInput={set('mechanism')} failure={failure} options={[NO_LOGIN, 'PLAIN', 'SCRAM-256', 'SCRAM-512']} />
            {form.mechanism !== NO_LOGIN && <>
              <Field id="c-username" name="username" label="Username" value={form.username} onInput={set('username')} failure={failure} />
              <Field id="c-password" name="password" type="password" label="Password" value={form.password} onInput={set('password')} failure={failure}
                hint={editing ? 'Write-only: the API never returns it and an update replaces the whole connection, so enter it again.' : 'Write-only: never shown again.'} />
            </>}
          </>}
          {json === undefined && form.type === 'Cluster' && <Field id="c-cluster" name="clusterName" label="Cluster name" value={form.clusterName} onInput={set('clusterName')} failure={failure} />}
          {json === undefined && form.type === 'Https' && <Field id="c-url" name="url" label="URL" value={form.url} onInput={set('url')} failure={failure} />}
          <ErrorBanner failure={failure} />
          <button type="submit">{editing ? 'Save' : 'Create connection'}</button>
          {editing && <button type="button" onClick={reset}>Cancel</button>}
        </form>
      </Section>
    </>
  );
}
