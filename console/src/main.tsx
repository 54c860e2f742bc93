// The console's shell: login, the project and workspace in use, and hash routes to the pages.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { paths, Session, type Login, type Page } from './api.js';
import { Connections } from './connections.js';
import { Journal } from './journal.js';
import { ProcessorDetail, Processors } from './processors.js';
import { TryPipeline } from './try-pipeline.js';
import { attempt, ErrorBanner, Field, type FormError } from './ui.js';
import { Workspaces } from './workspaces.js';
import './style.css';

export interface ServerInfo {
  baseUrl: string;
  orgId: string;
  projectId: string;
  publicKey: string;
  specPath: string;
}

/** What every page gets: the session and where it works. */
export interface Scope {
  session: Session;
  groupId: string;
  workspace: string;
}

const info = JSON.parse(document.getElementById('server-info')?.textContent ?? '{}') as ServerInfo;

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/workspaces');
  useEffect(() => {
    const onChange = () => setHash(location.hash || '#/workspaces');
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

const LOGIN_LABELS: Record<Login['kind'], [string, string]> = {
  apiKey: ['Public key', 'Private key'], serviceAccount: ['Client id', 'Client secret'], databaseUser: ['Username', 'Password'],
};

/** What a database user cannot open: the Admin API's own pages. */
const ADMIN_ONLY = ['#/workspaces', '#/connections', '#/journal'];

function NeedsAdminApi() {
  return <p role="status">This page needs an API key or a service account: a database user has no Admin API rights. Its processors are under Processors.</p>;
}

function LoginPage({ onLogin }: { onLogin: (s: Session) => void }) {
  const [kind, setKind] = useState<Login['kind']>('apiKey');
  const [id, setId] = useState('');
  const [secret, setSecret] = useState('');
  const [failure, setFailure] = useState<FormError>();
  const submit = async (e: Event) => {
    e.preventDefault();
    if (kind === 'databaseUser') {
      await attempt(async () => onLogin(await Session.databaseUser(info.projectId, id, secret)), [], setFailure);
      return;
    }
    const session = new Session(kind === 'apiKey' ? { kind, publicKey: id, privateKey: secret } : { kind, clientId: id, secret });
    // Any call proves the credentials; listing projects is one every principal may make.
    if (await attempt(() => session.call('GET', '/api/atlas/v2/groups'), [], setFailure)) onLogin(session);
  };
  return (
    <main id="main" class="login">
      <h1>Atlas Stream Processing emulator</h1>
      <form onSubmit={submit} aria-labelledby="login-title">
        <h2 id="login-title">Log in</h2>
        <Field id="login-kind" name="kind" label="Log in with" value={kind} options={['apiKey', 'serviceAccount', 'databaseUser']}
          onInput={(v) => setKind(v as Login['kind'])}
          hint="An API key (Digest), a service account (OAuth client credentials) or a database user of this project (its stream processors only)." />
        <Field id="login-id" name="id" label={LOGIN_LABELS[kind][0]} value={id} onInput={setId} required />
        <Field id="login-secret" name="secret" type="password" label={LOGIN_LABELS[kind][1]} value={secret}
          onInput={setSecret} required hint="Kept in this tab's memory only: reloading the page logs you out." />
        <ErrorBanner failure={failure} />
        <button type="submit">Log in</button>
      </form>
      <section aria-labelledby="connect-title">
        <h2 id="connect-title">Connecting clients</h2>
        <dl>
          <dt>Admin API base URL</dt><dd><code>{info.baseUrl}/api/atlas/v2</code></dd>
          <dt>Organization id</dt><dd><code>{info.orgId}</code></dd>
          <dt>Project id</dt><dd><code>{info.projectId}</code></dd>
          <dt>Owner API public key</dt><dd><code>{info.publicKey}</code></dd>
        </dl>
        <p>The private key was printed once, when the server first started. Database users connect with mongosh (see the banner).</p>
        <ul>
          <li><a href={info.specPath}>The API contract (OpenAPI)</a></li>
          <li><a href="/metrics">Prometheus metrics</a></li>
          <li><a href="/readyz">Readiness</a></li>
        </ul>
      </section>
    </main>
  );
}

const PAGES: Array<[string, string]> = [
  ['#/workspaces', 'Workspaces'], ['#/connections', 'Connections'], ['#/processors', 'Processors'], ['#/try', 'Try a pipeline'], ['#/journal', 'Journal'],
];

function Shell({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const hash = useHash();
  const [groupId, setGroupId] = useState(info.projectId);
  const [projects, setProjects] = useState<Array<{ id: string; name: string }>>([]);
  const [workspaces, setWorkspaces] = useState<string[]>([]);
  const [workspace, setWorkspace] = useState('');
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    if (session.isDatabaseUser) return;
    session.call<Page<{ id: string; name: string }>>('GET', '/api/atlas/v2/groups').then((p) => {
      setProjects(p.results);
      if (!p.results.some((r) => r.id === groupId) && p.results[0]) setGroupId(p.results[0].id);
    }).catch(() => setProjects([]));
  }, [session]);
  useEffect(() => {
    session.call<Page<{ name: string }>>('GET', paths.workspaces(groupId)).then((p) => {
      const names = p.results.map((w) => w.name);
      setWorkspaces(names);
      if (!names.includes(workspace)) setWorkspace(names[0] ?? '');
    }).catch(() => setWorkspaces([]));
  }, [session, groupId, refresh]);
  const scope: Scope = { session, groupId, workspace };
  const detail = /^#\/processors\/(.+)$/.exec(hash);
  const current = PAGES.find(([h]) => hash.startsWith(h))?.[0];
  let page;
  if (session.isDatabaseUser && (ADMIN_ONLY.some((h) => hash.startsWith(h)) || !current)) page = <NeedsAdminApi />;
  else if (detail) page = <ProcessorDetail scope={scope} name={decodeURIComponent(detail[1]!)} />;
  else if (hash.startsWith('#/connections')) page = <Connections scope={scope} />;
  else if (hash.startsWith('#/processors')) page = <Processors scope={scope} />;
  else if (hash.startsWith('#/try')) page = <TryPipeline scope={scope} />;
  else if (hash.startsWith('#/journal')) page = <Journal scope={scope} />;
  else page = <Workspaces scope={scope} onChange={() => setRefresh((n) => n + 1)} />;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header>
        <strong>Atlas Streams emulator</strong>
        <nav aria-label="Pages">
          <ul>{PAGES.map(([h, label]) => <li><a href={h} aria-current={current === h ? 'page' : undefined}>{label}</a></li>)}</ul>
        </nav>
        <div class="scope">
          <label for="project">Project</label>
          <select id="project" value={groupId} onChange={(e) => setGroupId((e.target as HTMLSelectElement).value)}>
            {(projects.length ? projects : [{ id: groupId, name: groupId }]).map((p) => <option value={p.id}>{p.name}</option>)}
          </select>
          <label for="workspace">Workspace</label>
          <select id="workspace" value={workspace} onChange={(e) => setWorkspace((e.target as HTMLSelectElement).value)}>
            {workspaces.length === 0 && <option value="">(none)</option>}
            {workspaces.map((w) => <option value={w}>{w}</option>)}
          </select>
          <span class="who">Logged in as <code>{session.label}</code></span>
          <button type="button" onClick={onLogout}>Log out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>{page}</main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session>();
  return session ? <Shell session={session} onLogout={() => setSession(undefined)} /> : <LoginPage onLogin={setSession} />;
}

render(<App />, document.getElementById('app')!);
