// Try a pipeline: what `sp.process` does in mongosh, over pasted documents, without creating
// anything (POST /emulator/v1/groups/{groupId}/streams/{workspace}/process).
import { useState } from 'preact/hooks';
import { paths } from './api.js';
import type { Scope } from './main.js';
import { parseJsonArray, PIPELINE_ERRORS } from './processors.js';
import { attempt, ErrorBanner, JsonEditor, Section, type FormError } from './ui.js';

interface Tried {
  results: unknown[];
  complete: boolean;
  inputMessageCount: number;
  outputMessageCount: number;
  dlqMessageCount: number;
}

const PIPELINE = JSON.stringify([{ $match: { temp: { $gt: 20 } } }, { $addFields: { hot: true } }], null, 2);
const DOCUMENTS = JSON.stringify([{ device: 'a', temp: 25 }, { device: 'b', temp: 12 }, { device: 'c', temp: 31 }], null, 2);

export function TryPipeline({ scope }: { scope: Scope }) {
  const [pipeline, setPipeline] = useState(PIPELINE);
  const [documents, setDocuments] = useState(DOCUMENTS);
  const [failure, setFailure] = useState<FormError>();
  const [tried, setTried] = useState<Tried>();
  const [running, setRunning] = useState(false);
  const run = async (e: Event) => {
    e.preventDefault();
    setRunning(true);
    await attempt(async () => {
      const stages = parseJsonArray(pipeline, 'pipeline');
      const docs = documents.trim() ? parseJsonArray(documents, 'documents') : undefined;
      // Pasted documents become the source, unless the pipeline brings its own.
      const hasSource = stages[0] !== null && typeof stages[0] === 'object' && '$source' in (stages[0] as object);
      const full = docs && !hasSource ? [{ $source: { documents: docs } }, ...stages] : stages;
      setTried(await scope.session.call<Tried>('POST', paths.tryPipeline(scope.groupId, scope.workspace), { pipeline: full }));
    }, ['pipeline', 'documents'], setFailure, PIPELINE_ERRORS);
    setRunning(false);
  };
  if (!scope.workspace) return <><h1>Try a pipeline</h1><p>Create a workspace first: a pipeline runs on one.</p></>;
  return (
    <>
      <h1>Try a pipeline on {scope.workspace}</h1>
      <form onSubmit={run}>
        <JsonEditor id="try-pipeline" name="pipeline" label="Pipeline (without $source, the documents below are its source)" value={pipeline} onInput={setPipeline} failure={failure} />
        <JsonEditor id="try-documents" name="documents" label="Sample documents (a JSON array)" value={documents} onInput={setDocuments} failure={failure} rows={6} />
        <ErrorBanner failure={failure} />
        <button type="submit" disabled={running}>{running ? 'Running…' : 'Run'}</button>
      </form>
      {tried && (
        <Section title="Output">
          <p id="try-summary">{tried.results.length} documents out of {tried.inputMessageCount} in; {tried.dlqMessageCount} to the dead letter queue{tried.complete ? '' : ' (cut short)'}.</p>
          <pre class="result" tabIndex={0}>{tried.results.map((d) => JSON.stringify(d)).join('\n')}</pre>
        </Section>
      )}
    </>
  );
}
