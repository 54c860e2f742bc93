// The request journal: the last API calls, with who made them and, for a refusal, the role
// that was missing (GET /emulator/v1/admin/journal, Organization Owner only).
import { useEffect, useState } from 'preact/hooks';
import { paths } from './api.js';
import type { Scope } from './main.js';
import { attempt, ErrorBanner, Field, type FormError } from './ui.js';

interface Entry {
  at: string;
  principal: string;
  operationId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requiredRoles?: string[];
}

export function Journal({ scope }: { scope: Scope }) {
  const [status, setStatus] = useState('');
  const [operation, setOperation] = useState('');
  const [entries, setEntries] = useState<Entry[]>([]);
  const [failure, setFailure] = useState<FormError>();
  const load = () => {
    const query = new URLSearchParams({ limit: '100' });
    if (status.trim()) query.set('status', status.trim());
    if (operation.trim()) query.set('operationId', operation.trim());
    return attempt(async () => setEntries((await scope.session.call<{ results: Entry[] }>('GET', paths.journal(`?${query}`))).results), ['status', 'operationId'], setFailure);
  };
  useEffect(() => { void load(); }, []);
  return (
    <>
      <h1>Request journal</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); void load(); }}>
        <Field id="j-status" name="status" label="Status" value={status} onInput={setStatus} failure={failure} hint="such as 403" />
        <Field id="j-operation" name="operationId" label="Operation" value={operation} onInput={setOperation} failure={failure} hint="such as createStreamProcessor" />
        <button type="submit">Filter</button>
      </form>
      <ErrorBanner failure={failure} />
      <table>
        <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Operation</th><th scope="col">Status</th><th scope="col">ms</th><th scope="col">Missing role</th></tr></thead>
        <tbody>
          {entries.map((e) => (
            <tr class={e.status >= 400 ? 'refused' : undefined}>
              <td>{e.at.slice(11, 23)}</td><td><code>{e.principal}</code></td><td title={`${e.method} ${e.path}`}>{e.operationId}</td>
              <td>{e.status}</td><td>{e.durationMs.toFixed(1)}</td><td>{e.requiredRoles?.join(' or ') ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {entries.length === 0 && <p>No call matches.</p>}
    </>
  );
}
