// Workspaces (Atlas's stream instances): list, create, change region, delete.
import { useEffect, useState } from 'preact/hooks';
import { paths, type Page } from './api.js';
import type { Scope } from './main.js';
import { attempt, ErrorBanner, Field, Section, type FormError } from './ui.js';

interface Workspace {
  name: string;
  dataProcessRegion?: { cloudProvider: string; region: string };
  streamConfig?: { tier?: string };
  hostnames?: string[];
}

const FIELDS = ['name', 'cloudProvider', 'region', 'tier'] as const;

export function Workspaces({ scope, onChange }: { scope: Scope; onChange: () => void }) {
  const { session, groupId } = scope;
  const [list, setList] = useState<Workspace[]>([]);
  const [listFailure, setListFailure] = useState<FormError>();
  const [form, setForm] = useState({ name: '', cloudProvider: 'AWS', region: 'VIRGINIA_USA', tier: 'SP10' });
  const [editing, setEditing] = useState<string>();
  const [failure, setFailure] = useState<FormError>();
  const load = () => attempt(async () => setList((await session.call<Page<Workspace>>('GET', paths.workspaces(groupId))).results), [], setListFailure);
  useEffect(() => { void load(); }, [groupId]);
  const set = (key: keyof typeof form) => (value: string) => setForm({ ...form, [key]: value });
  const submit = async (e: Event) => {
    e.preventDefault();
    const region = { cloudProvider: form.cloudProvider, region: form.region };
    const ok = await attempt(() => (editing
      ? session.call('PATCH', paths.workspace(groupId, editing), region)
      : session.call('POST', paths.workspaces(groupId), { name: form.name, dataProcessRegion: region, streamConfig: { tier: form.tier } })), FIELDS, setFailure);
    if (ok) {
      setEditing(undefined);
      setForm({ ...form, name: '' });
      await load();
      onChange();
    }
  };
  const remove = async (name: string) => {
    if (await attempt(() => session.call('DELETE', paths.workspace(groupId, name)), [], setListFailure)) {
      await load();
      onChange();
    }
  };
  return (
    <>
      <h1>Workspaces</h1>
      <Section title="Stream workspaces">
        <ErrorBanner failure={listFailure} />
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Region</th><th scope="col">Tier</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {list.map((w) => (
              <tr>
                <th scope="row">{w.name}</th><td>{w.dataProcessRegion?.cloudProvider}</td><td>{w.dataProcessRegion?.region}</td><td>{w.streamConfig?.tier}</td>
                <td>
                  <button type="button" onClick={() => { setEditing(w.name); setForm({ ...form, name: w.name, region: w.dataProcessRegion?.region ?? '' }); }}>Edit {w.name}</button>
                  <button type="button" class="danger" onClick={() => remove(w.name)}>Delete {w.name}</button>
                </td>
              </tr>
            ))}
            {list.length === 0 && <tr><td colSpan={5}>No workspace yet.</td></tr>}
          </tbody>
        </table>
      </Section>
      <Section title={editing ? `Edit ${editing}` : 'Create a workspace'}>
        <form onSubmit={submit}>
          {!editing && <Field id="ws-name" name="name" label="Name" value={form.name} onInput={set('name')} failure={failure} />}
          <Field id="ws-provider" name="cloudProvider" label="Cloud provider" value={form.cloudProvider} onInput={set('cloudProvider')} failure={failure} options={['AWS', 'AZURE', 'GCP']} />
          <Field id="ws-region" name="region" label="Region" value={form.region} onInput={set('region')} failure={failure} hint="Atlas's region names, such as VIRGINIA_USA or DUBLIN_IRL." />
          {!editing && <Field id="ws-tier" name="tier" label="Tier" value={form.tier} onInput={set('tier')} failure={failure} options={['SP2', 'SP5', 'SP10', 'SP30', 'SP50']} />}
          <ErrorBanner failure={failure} />
          <button type="submit">{editing ? 'Save' : 'Create workspace'}</button>
          {editing && <button type="button" onClick={() => { setEditing(undefined); setFailure(undefined); }}>Cancel</button>}
        </form>
      </Section>
    </>
  );
}
