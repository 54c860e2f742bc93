// kafkajs clients from a Kafka connection (bootstrapServers, security, authentication).
// kafkajs logs go through the processor's logger, whose lines are redacted.
import type { Kafka, KafkaConfig, SASLOptions } from 'kafkajs';
import { PipelineError, type ConnectionDefinition } from '../contract.js';
import type { EngineSettings, Logger } from '../runtime/environment.js';
import { kafkaLibrary } from './client-libraries.js';

export function createKafka(connection: ConnectionDefinition, clientId: string, settings: EngineSettings, log: Logger): Kafka {
  const servers = connection['bootstrapServers'];
  if (typeof servers !== 'string' || servers.trim() === '') throw new PipelineError(`Kafka connection ${connection.name} has no bootstrapServers`);
  const security = (connection['security'] ?? {}) as { protocol?: string; broker_public_certificate?: string };
  const protocol = (security.protocol ?? 'PLAINTEXT').toUpperCase();
  const { Kafka, logLevel } = kafkaLibrary();
  const config: KafkaConfig = {
    clientId,
    brokers: servers.split(',').map((s) => s.trim()).filter(Boolean),
    connectionTimeout: 5000,
    retry: { initialRetryTime: 300, retries: 5 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...rest } = entry;
      const line = { namespace, ...rest };
      if (level <= logLevel.ERROR) log.error(line, message);
      else log.warn(line, message);
    },
  };
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const ca = [...(settings.extraCaCertificates ?? []), ...(security.broker_public_certificate ? [security.broker_public_certificate] : [])];
    config.ssl = ca.length > 0 ? { ca } : true;
  }
  if (protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT') config.sasl = saslOptions(connection);
  return new Kafka(config);
}

function saslOptions(connection: ConnectionDefinition): SASLOptions {
  const auth = (connection['authentication'] ?? {}) as { mechanism?: string; username?: string; password?: string };
  const username = auth.username ?? '';
  const password = auth.password ?? '';
  switch ((auth.mechanism ?? 'PLAIN').toUpperCase()) {
    case 'PLAIN': return { mechanism: 'plain', username, password };
    case 'SCRAM-256': case 'SCRAM-SHA-256': return { mechanism: 'scram-sha-256', username, password };
    case 'SCRAM-512': case 'SCRAM-SHA-512': return { mechanism: 'scram-sha-512', username, password };
    default: throw new PipelineError(`Kafka connection ${connection.name}: unsupported authentication.mechanism ${auth.mechanism}`);
  }
}
