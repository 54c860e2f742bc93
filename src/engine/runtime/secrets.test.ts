import { describe, expect, it } from 'vitest';
import { collectSecrets, createRedactor } from './secrets.js';

describe('secret redaction', () => {
  it('masks passwords, header values and connection string credentials, and nothing else', () => {
    const redact = createRedactor(collectSecrets({
      kafka1: { name: 'kafka1', type: 'Kafka', bootstrapServers: 'broker:9092', security: { protocol: 'SASL_SSL' }, authentication: { mechanism: 'PLAIN', username: 'svc', password: 'kafka-pw-123' } },
      api: { name: 'api', type: 'Https', url: 'https://example.test', headers: { Authorization: 'Bearer tok-456' } },
      cluster0: { name: 'cluster0', type: 'Cluster', connectionString: 'mongodb://app:p%40ss-789@db.test:27017/' },
    }));
    expect(redact('auth kafka-pw-123 / Bearer tok-456 / p%40ss-789 / p@ss-789 over SASL_SSL PLAIN as svc'))
      .toBe('auth **** / **** / **** / **** over SASL_SSL PLAIN as svc');
  });
});
