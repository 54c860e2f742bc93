// An AWS stand-in for the S3 and Kinesis sinks: path-style S3 HeadBucket and PutObject
// (`/bucket/key`), and Kinesis PutRecords/PutRecord (JSON 1.1). A request without a SigV4
// Authorization header for the test's access key is refused, as AWS would.
import { gunzipSync } from 'node:zlib';
import { startHttpServer } from './https-server.js';

export const TEST_ACCESS_KEY = 'AKIATESTEMULATOR';

export interface StoredObject { bucket: string; key: string; body: Buffer; headers: Record<string, string | string[] | undefined> }

export interface TestAws {
  url: string;
  objects: StoredObject[];
  /** The object's entries, gunzipped when it was sent gzip-encoded. */
  text(object: StoredObject): string;
  stop(): Promise<void>;
}

export async function startAwsStandIn(buckets: string[]): Promise<TestAws> {
  const objects: StoredObject[] = [];
  const server = await startHttpServer((req, res, _body, raw) => {
    const signed = new RegExp(`^AWS4-HMAC-SHA256 Credential=${TEST_ACCESS_KEY}/\\d{8}/[\\w-]+/(s3|kinesis)/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`);
    if (!signed.test(req.headers.authorization ?? '')) return res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
    const [bucket = '', ...key] = decodeURIComponent((req.url ?? '').split('?')[0]!).split('/').filter((part) => part !== '');
    if (!buckets.includes(bucket)) return res.writeHead(404).end('<Error><Code>NoSuchBucket</Code></Error>');
    if (req.method === 'HEAD' && key.length === 0) return res.writeHead(200).end();
    if (req.method === 'PUT' && key.length > 0) {
      objects.push({ bucket, key: key.join('/'), body: raw, headers: req.headers });
      return res.writeHead(200, { etag: '"0"' }).end();
    }
    res.writeHead(400).end('<Error><Code>NotImplemented</Code></Error>');
  });
  return {
    url: server.url,
    objects,
    text: (object) => (object.headers['content-encoding'] === 'gzip' ? gunzipSync(object.body) : object.body).toString('utf8'),
    stop: server.stop,
  };
}
