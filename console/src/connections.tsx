// Connections of the chosen workspace: list, create, edit, delete. Secrets are write-only, as
// in the API: the form never shows one, and an empty password field leaves it unchanged.
import { useEffect, useState } from 'preact/hooks';
import { paths, type Page } from './api.js';
import type { Scope } from './main.js';
import { attempt, ErrorBanner, Field, Section, type FormError } from './ui.js';

interface Connection {
  name: string;
  type: string;
  bootstrapServers?: string;
  clusterName?: string;
  url?: string;
  authentication?: { mechanism?: string; username?: string };
  security?: { protocol?: string };
}

const TYPES = ['Kafka', 'Cluster', 'Https', 'Sample'] as const;
const FIELDS = ['name', 'type', 'bootstrapServers', 'mechanism', 'username', 'password', 'protocol', 'clusterName', 'url'] as const;
type Form = Record<(typeof FIELDS)[number], string>;
const EMPTY: Form = { name: '', type: 'Kafka', bootstrapServers: '', mechanism: 'PLAIN', username: '', password: '', protocol: 'PLAINTEXT', clusterName: '', url: '' };

/** The request body for the connection type; on an edit, an empty password is left out (kept as it is). */
function bodyOf(form: Form, editing: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { name: form.name, type: form.type };
  if (form.type === 'Kafka') {
    body['bootstrapServers'] = form.bootstrapServers;
    body['security'] = { protocol: form.protocol };
    body['authentication'] = { mechanism: form.mechanism, username: form.username, ...(form.password || !editing ? { password: form.password } : {}) };
  } else if (form.type === 'Cluster') {
    body['clusterName'] = form.clusterName;
    body['dbRoleToExecute'] = { role: 'atlasAdmin', type: 'BUILT_IN' };
  } else if (form.type === 'Https') {
    body['url'] = form.url;
  }
  return body;
}

function describe(c: Connection): string {
  return c.bootstrapServers ?? c.clusterName ?? c.url ?? '';
}

export function Connections({ scope }: { scope: Scope }) {
  const { session, groupId, workspace } = scope;
  const [list, setList] = useState<Connection[]>([]);
  const [listFailure, setListFailure] = useState<FormError>();
  const [form, setForm] = useState<Form>(EMPTY);
  const [editing, setEditing] = useState<string>();
  const [failure, setFailure] = useState<FormError>();
  const load = () => attempt(async () => setList(workspace ? (await session.call<Page<Connection>>('GET', paths.connections(groupId, workspace))).results : []), [], setListFailure);
  useEffect(() => { void load(); }, [groupId, workspace]);
  const set = (key: keyof Form) => (value: string) => setForm({ ...form, [key]: value });
  const edit = (c: Connection) => {
    setEditing(c.name);
    setFailure(undefined);
    setForm({ ...EMPTY, name: c.name, type: c.type, bootstrapServers: c.bootstrapServers ?? '', clusterName: c.clusterName ?? '', url: c.url ?? '',
      mechanism: c.authentication?.mechanism ?? 'PLAIN', username: c.authentication?.username ?? '', protocol: c.security?.protocol ?? 'PLAINTEXT' });
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const ok = await attempt(() => (editing
      ? session.call('PATCH', paths.connection(groupId, workspace, editing), bodyOf(form, true))
      : session.call('POST', paths.connections(groupId, workspace), bodyOf(form, false))), FIELDS, setFailure);
    if (ok) {
      setEditing(undefined);
      setForm(EMPTY);
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
                  <button type="button" onClick={() => edit(c)}>Edit {c.name}</button>
                  <button type="button" class="danger" onClick={() => remove(c.name)}>Delete {c.name}</button>
                </td>
              </tr>
            ))}
            {list.length === 0 && <tr><td colSpan={4}>No connection yet.</td></tr>}
          </tbody>
        </table>
      </Section>
      <Section title={editing ? `Edit ${editing}` : 'Create a connection'}>
        <form onSubmit={submit}>
          {!editing && <Field id="c-name" name="name" label="Name" value={form.name} onInput={set('name')} failure={failure}
            hint="The Sample type needs the name sample_stream_solar." />}
          {!editing && <Field id="c-type" name="type" label="Type" value={form.type} onInput={set('type')} failure={failure} options={TYPES} />}
          {form.type === 'Kafka' && <>
            <Field id="c-bootstrap" name="bootstrapServers" label="Bootstrap servers" value={form.bootstrapServers} onInput={set('bootstrapServers')} failure={failure} hint="host:port, comma-separated" />
            <Field id="c-protocol" name="protocol" label="Security protocol" value={form.protocol} onInput={set('protocol')} failure={failure} options={['PLAINTEXT', 'SASL_PLAINTEXT', 'SASL_SSL', 'SSL']} />
            <Field id="c-mechanism" name="mechanism" label="SASL mechanism" value={form.mechanism} onInput={set('mechanism')} failure={failure} options={['PLAIN', 'SCRAM-256', 'SCRAM-512']} />
            <Field id="c-username" name="username" label="Username" value={form.username} onInput={set('username')} failure={failure} />
            <Field id="c-password" name="password" type="password" label="Password" value={form.password} onInput={set('password')} failure={failure}
              hint={editing ? 'Write-only: leave empty to keep the stored password.' : 'Write-only: never shown again.'} />
          </>}
          {form.type === 'Cluster' && <Field id="c-cluster" name="clusterName" label="Cluster name" value={form.clusterName} onInput={set('clusterName')} failure={failure} />}
          {form.type === 'Https' && <Field id="c-url" name="url" label="URL" value={form.url} onInput={set('url')} failure={failure} />}
          <ErrorBanner failure={failure} />
          <button type="submit">{editing ? 'Save' : 'Create connection'}</button>
          {editing && <button type="button" onClick={() => { setEditing(undefined); setForm(EMPTY); setFailure(undefined); }}>Cancel</button>}
        </form>
      </Section>
    </>
  );
}
