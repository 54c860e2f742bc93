// Processors of the chosen workspace: the list with state and counts, the pipeline editor, and
// one processor's page: actions, live rates, per-operator figures, output as it comes, and
// the failure message of a FAILED processor.
import { useEffect, useRef, useState } from 'preact/hooks';
import { paths, type Page } from './api.js';
import { RateChart, type RatePoint } from './chart.js';
import type { Scope } from './main.js';
import { attempt, editorFailure, ErrorBanner, Field, JsonEditor, parseEditorJson, Section, type FormError } from './ui.js';

interface OperatorStats {
  name: string;
  inputMessageCount: number;
  outputMessageCount: number;
  dlqMessageCount: number;
  timeSpentMillis?: number;
  stateSize?: number;
}

interface Stats {
  status?: string;
  inputMessageCount: number;
  outputMessageCount: number;
  dlqMessageCount: number;
  errorMsg?: string;
  operatorStats?: OperatorStats[];
}

interface Processor {
  name: string;
  state: string;
  pipeline: unknown[];
  options?: { dlq?: { connectionName: string; db: string; coll: string } };
  stats?: Stats;
}

const EXAMPLE = JSON.stringify([{ $source: { connectionName: 'sample_stream_solar' } }, { $match: { obs: { $exists: true } } }], null, 2);
const FIELDS = ['name', 'pipeline', 'dlq'] as const;
/** Atlas's answer to a pipeline it cannot run names the processor, not the field: it is about the pipeline. */
export const PIPELINE_ERRORS = { STREAM_PROCESSOR_GENERIC_ERROR: 'pipeline' };
const POLL_MS = 1000;
const OUTPUT_KEPT = 20;
/** Five minutes of one-second points. */
const CHART_POINTS = 300;

function stateChange(scope: Scope, name: string, action: 'start' | 'stop') {
  return scope.session.call('POST', `${paths.processor(scope.groupId, scope.workspace, name)}:${action}`);
}

function Actions({ scope, p, onDone, setFailure }: { scope: Scope; p: Processor; onDone: () => void; setFailure: (f?: FormError) => void }) {
  const run = async (action: () => Promise<unknown>) => {
    if (await attempt(action, [], setFailure)) onDone();
  };
  return (
    <>
      {p.state !== 'STARTED' && <button type="button" onClick={() => run(() => stateChange(scope, p.name, 'start'))}>Start {p.name}</button>}
      {p.state === 'STARTED' && <button type="button" onClick={() => run(() => stateChange(scope, p.name, 'stop'))}>Stop {p.name}</button>}
      <button type="button" class="danger" onClick={() => run(() => scope.session.call('DELETE', paths.processor(scope.groupId, scope.workspace, p.name)))}>Drop {p.name}</button>
    </>
  );
}

export function Processors({ scope }: { scope: Scope }) {
  const { session, groupId, workspace } = scope;
  const [list, setList] = useState<Processor[]>([]);
  const [listFailure, setListFailure] = useState<FormError>();
  const [name, setName] = useState('');
  const [pipeline, setPipeline] = useState(EXAMPLE);
  const [failure, setFailure] = useState<FormError>();
  const load = () => attempt(async () => setList(workspace ? (await session.call<Page<Processor>>('GET', paths.processors(groupId, workspace))).results : []), [], setListFailure);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), POLL_MS * 2);
    return () => clearInterval(timer);
  }, [groupId, workspace]);
  const create = async (e: Event) => {
    e.preventDefault();
    const ok = await attempt(async () => {
      const parsed = parseJsonArray(pipeline, 'pipeline');
      await session.call('POST', paths.newProcessor(groupId, workspace), { name, pipeline: parsed });
    }, FIELDS, setFailure, PIPELINE_ERRORS);
    if (ok) {
      setName('');
      await load();
    }
  };
  if (!workspace) return <><h1>Processors</h1><p>Create a workspace first.</p></>;
  return (
    <>
      <h1>Processors of {workspace}</h1>
      <Section title="Stream processors">
        <ErrorBanner failure={listFailure} />
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Input</th><th scope="col">Output</th><th scope="col">DLQ</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {list.map((p) => (
              <tr>
                <th scope="row"><a href={`#/processors/${encodeURIComponent(p.name)}`}>{p.name}</a></th>
                <td><span class={`state state-${p.state}`}>{p.state}</span></td>
                <td>{p.stats?.inputMessageCount ?? 0}</td><td>{p.stats?.outputMessageCount ?? 0}</td><td>{p.stats?.dlqMessageCount ?? 0}</td>
                <td><Actions scope={scope} p={p} onDone={load} setFailure={setListFailure} /></td>
              </tr>
            ))}
            {list.length === 0 && <tr><td colSpan={6}>No processor yet.</td></tr>}
          </tbody>
        </table>
      </Section>
      <Section title="Create a processor">
        <form onSubmit={create}>
          <Field id="p-name" name="name" label="Name" value={name} onInput={setName} failure={failure} />
          <JsonEditor id="p-pipeline" name="pipeline" label="Pipeline (a JSON array of stages)" value={pipeline} onInput={setPipeline} failure={failure} />
          <ErrorBanner failure={failure} />
          <button type="submit">Create processor</button>
        </form>
      </Section>
    </>
  );
}

/** An editor's text as a JSON array; a syntax error is reported against that editor's field. */
export function parseJsonArray(text: string, field: string): unknown[] {
  const parsed = parseEditorJson(text, field);
  if (!Array.isArray(parsed)) throw editorFailure(field, `${field} must be a JSON array`);
  return parsed;
}

export function ProcessorDetail({ scope, name }: { scope: Scope; name: string }) {
  const { session, groupId, workspace } = scope;
  const [p, setP] = useState<Processor>();
  const [failure, setFailure] = useState<FormError>();
  const [points, setPoints] = useState<RatePoint[]>([]);
  const [output, setOutput] = useState<string[]>([]);
  const [deadLetters, setDeadLetters] = useState<string[]>([]);
  const [pipeline, setPipeline] = useState<string>();
  const [editFailure, setEditFailure] = useState<FormError>();
  const last = useRef<{ at: number; stats: Stats } | undefined>(undefined);
  const load = () => attempt(async () => {
    const got = await session.call<Processor>('GET', paths.processor(groupId, workspace, name));
    setP(got);
    setPipeline((current) => current ?? JSON.stringify(got.pipeline, null, 2));
    const now = Date.now();
    const stats = got.stats;
    if (stats && last.current && got.state === 'STARTED') {
      const seconds = (now - last.current.at) / 1000;
      const rate = (k: 'inputMessageCount' | 'outputMessageCount' | 'dlqMessageCount') => Math.max(0, (stats[k] - last.current!.stats[k]) / seconds);
      setPoints((old) => [...old, { at: now / 1000, input: rate('inputMessageCount'), output: rate('outputMessageCount'), dlq: rate('dlqMessageCount') }].slice(-CHART_POINTS));
    }
    if (stats) last.current = { at: now, stats };
  }, [], setFailure);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(timer);
  }, [groupId, workspace, name]);
  const running = p?.state === 'STARTED';
  useEffect(() => {
    if (!running) return;
    const abort = new AbortController();
    void follow(scope, paths.output(groupId, workspace, name), abort.signal, (line) => setOutput((old) => [line, ...old].slice(0, OUTPUT_KEPT)));
    void follow(scope, paths.deadLetters(groupId, workspace, name), abort.signal, (line) => setDeadLetters((old) => [line, ...old].slice(0, OUTPUT_KEPT)));
    return () => abort.abort();
  }, [running, groupId, workspace, name]);
  const modify = async (e: Event) => {
    e.preventDefault();
    const ok = await attempt(async () => {
      await session.call('PATCH', paths.processor(groupId, workspace, name), { pipeline: parseJsonArray(pipeline ?? '[]', 'pipeline') });
    }, FIELDS, setEditFailure, PIPELINE_ERRORS);
    if (ok) await load();
  };
  if (!p) return <><h1>Processor {name}</h1><ErrorBanner failure={failure} /></>;
  const stats = p.stats;
  return (
    <>
      <h1>Processor {p.name}</h1>
      <p><a href="#/processors">All processors</a></p>
      <p>State: <span class={`state state-${p.state}`} id="processor-state">{p.state}</span></p>
      {p.state === 'FAILED' && <p class="error" role="alert">Failed: {stats?.errorMsg ?? 'no message'}</p>}
      <ErrorBanner failure={failure} />
      <div class="actions"><Actions scope={scope} p={p} onDone={load} setFailure={setFailure} /></div>
      <Section title="Rates over the last minutes">
        <RateChart points={points} />
        <dl class="counts">
          <dt>Input</dt><dd id="count-input">{stats?.inputMessageCount ?? 0}</dd>
          <dt>Output</dt><dd id="count-output">{stats?.outputMessageCount ?? 0}</dd>
          <dt>Dead letter queue</dt><dd id="count-dlq">{stats?.dlqMessageCount ?? 0}</dd>
        </dl>
      </Section>
      <Section title="Operators">
        <table>
          <thead><tr><th scope="col">Stage</th><th scope="col">Input</th><th scope="col">Output</th><th scope="col">DLQ</th><th scope="col">Time (ms)</th><th scope="col">State (bytes)</th></tr></thead>
          <tbody>
            {(stats?.operatorStats ?? []).map((o) => (
              <tr><th scope="row">{o.name}</th><td>{o.inputMessageCount}</td><td>{o.outputMessageCount}</td><td>{o.dlqMessageCount}</td><td>{o.timeSpentMillis ?? 0}</td><td>{o.stateSize ?? 0}</td></tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Latest output">
        {running ? <p>Newest first; the latest {OUTPUT_KEPT} documents.</p> : <p>Output streams here while the processor runs.</p>}
        <ol class="output" aria-live="off">{output.map((line) => <li><code>{line}</code></li>)}</ol>
      </Section>
      <Section title="Latest dead letter queue documents">
        {running
          ? <p>Newest first; the latest {OUTPUT_KEPT} records, as written to the dead letter queue (the document in <code>doc</code>, why in <code>errInfo.reason</code>).</p>
          : <p>Dead letter queue records stream here while the processor runs.</p>}
        <ol class="output" id="dead-letters" aria-live="off">{deadLetters.map((line) => <li><code>{line}</code></li>)}</ol>
      </Section>
      <Section title="Modify the pipeline">
        <form onSubmit={modify}>
          <JsonEditor id="p-modify" name="pipeline" label="Pipeline" value={pipeline ?? ''} onInput={setPipeline} failure={editFailure} />
          <ErrorBanner failure={editFailure} />
          <button type="submit">Modify {p.name}</button>
        </form>
      </Section>
    </>
  );
}

/** Reads an NDJSON route's lines (output, dead letters) until aborted (the processor stopping ends the stream too). */
async function follow(scope: Scope, path: string, signal: AbortSignal, onLine: (line: string) => void): Promise<void> {
  try {
    const response = await scope.session.fetch('GET', path, undefined, signal);
    if (!response.ok || !response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      pending += value;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line);
    }
  } catch {
    // Aborted on leaving the page, or the connection dropped: the next render starts again.
  }
}
