// The Kafka and MongoDB client libraries, loaded the first time a pipeline needs one rather
// than in every processor's worker: together they are some 900 files and about 0.4 of the
// 0.9 CPU-seconds a worker takes to load the engine, and a sample or HTTPS pipeline uses
// neither. Both are CommonJS, so a synchronous require keeps their callers synchronous.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const kafkaLibrary = (): typeof import('kafkajs') => require('kafkajs') as typeof import('kafkajs');
export const mongoLibrary = (): typeof import('mongodb') => require('mongodb') as typeof import('mongodb');
