// `atlas-streams-emulator watch`: follow a running processor's output from a terminal.
// It reads the server's NDJSON output stream with the same Digest credentials as the API.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { digestAuthorizationHeader } from '../http/auth/digest.js';

export interface WatchOptions {
  url: string;
  publicKey: string;
  privateKey: string;
  projectId: string;
  instance: string;
  processor: string;
  /** Each output document, one line of relaxed Extended JSON. */
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

function get(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { headers, signal }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return text;
}

/** Streams until the server ends the output (processor stopped) or the signal aborts. */
export async function watchProcessorOutput(options: WatchOptions): Promise<void> {
  const path = `/emulator/v1/groups/${encodeURIComponent(options.projectId)}/streams/${encodeURIComponent(options.instance)}` +
    `/processor/${encodeURIComponent(options.processor)}/output`;
  const url = new URL(path, options.url);
  const challenge = await get(url, {}, options.signal);
  const nonce = /nonce="([^"]+)"/.exec(String(challenge.headers['www-authenticate'] ?? ''))?.[1];
  challenge.resume();
  if (!nonce) throw new Error(`the server sent no Digest challenge (HTTP ${challenge.statusCode})`);
  const authorization = digestAuthorizationHeader({
    method: 'GET', uri: url.pathname, username: options.publicKey, password: options.privateKey, nonce,
  });
  const res = await get(url, { Authorization: authorization }, options.signal);
  if (res.statusCode !== 200) {
    const body = await readAll(res);
    let detail = body;
    try {
      detail = (JSON.parse(body) as { detail?: string }).detail ?? body;
    } catch {
      // not JSON: show it as it came
    }
    throw new Error(`HTTP ${res.statusCode}: ${detail}`);
  }
  let pending = '';
  try {
    for await (const chunk of res) {
      pending += String(chunk);
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line) options.onLine(line);
    }
  } catch (error) {
    if (!options.signal?.aborted) throw error;
  }
}
