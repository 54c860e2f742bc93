// An AWS stand-in for the S3 and Kinesis sinks: path-style S3 HeadBucket and PutObject
// (`/bucket/key`), and Kinesis DescribeStreamSummary/PutRecords (JSON 1.1). A request without a SigV4
// Authorization header for the test's access key is refused, as AWS would.
import { gunzipSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { startHttpServer } from './https-server.js';

export const TEST_ACCESS_KEY = 'AKIATESTEMULATOR';

export interface KinesisRecord { stream: string; partitionKey: string; data: string }

export interface StoredObject { bucket: string; key: string; body: Buffer; headers: Record<string, string | string[] | undefined> }

export interface TestAws {
  url: string;
  objects: StoredObject[];
  records: KinesisRecord[];
  /** While true, PutObject answers 503 SlowDown. */
  refusePuts: boolean;
  /** How many of the next records PutRecords refuses as throttled. */
  throttleNext: number;
  /** The object's entries, gunzipped when it was sent gzip-encoded. */
  text(object: StoredObject): string;
  stop(): Promise<void>;
}

export async function startAwsStandIn(buckets: string[], streams: string[] = []): Promise<TestAws> {
  const objects: StoredObject[] = [];
  const records: KinesisRecord[] = [];
  const server = await startHttpServer((req, res, body, raw) => {
    const signed = new RegExp(`^AWS4-HMAC-SHA256 Credential=${TEST_ACCESS_KEY}/\\d{8}/[\\w-]+/(s3|kinesis)/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`);
    if (!signed.test(req.headers.authorization ?? '')) return res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') return kinesis(target, JSON.parse(body) as KinesisRequest, res);
    const [bucket = '', ...key] = decodeURIComponent((req.url ?? '').split('?')[0]!).split('/').filter((part) => part !== '');
    if (!buckets.includes(bucket)) return res.writeHead(404).end('<Error><Code>NoSuchBucket</Code></Error>');
    if (req.method === 'HEAD' && key.length === 0) return res.writeHead(200).end();
    if (req.method === 'PUT' && key.length > 0) {
      if (aws.refusePuts) return res.writeHead(503).end('<Error><Code>SlowDown</Code></Error>');
      objects.push({ bucket, key: key.join('/'), body: raw, headers: req.headers });
      return res.writeHead(200, { etag: '"0"' }).end();
    }
    res.writeHead(400).end('<Error><Code>NotImplemented</Code></Error>');
  });
  const kinesis = (target: string, request: KinesisRequest, res: ServerResponse) => {
    const answer = (status: number, json: object) => res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(json));
    if (!streams.includes(request.StreamName)) return answer(400, { __type: 'ResourceNotFoundException', message: `Stream ${request.StreamName} not found` });
    if (target === 'Kinesis_20131202.DescribeStreamSummary') return answer(200, { StreamDescriptionSummary: { StreamName: request.StreamName, StreamStatus: 'ACTIVE' } });
    if (target !== 'Kinesis_20131202.PutRecords') return answer(400, { __type: 'UnknownOperationException' });
    const results = (request.Records ?? []).map((record) => {
      if (aws.throttleNext > 0) {
        aws.throttleNext -= 1;
        return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' };
      }
      records.push({ stream: request.StreamName, partitionKey: record.PartitionKey, data: Buffer.from(record.Data, 'base64').toString('utf8') });
      return { SequenceNumber: String(records.length), ShardId: 'shardId-000000000000' };
    });
    answer(200, { FailedRecordCount: results.filter((r) => 'ErrorCode' in r).length, Records: results });
  };
  const aws: TestAws = {
    url: server.url,
    objects,
    records,
    refusePuts: false,
    throttleNext: 0,
    text: (object) => (object.headers['content-encoding'] === 'gzip' ? gunzipSync(object.body) : object.body).toString('utf8'),
    stop: server.stop,
  };
  return aws;
}

interface KinesisRequest { StreamName: string; Records?: Array<{ Data: string; PartitionKey: string }> }
