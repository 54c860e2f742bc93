// The Kafka, MongoDB, AWS (S3, Kinesis) and Avro client libraries, loaded the first time a
// pipeline needs one rather than in every processor's worker: Kafka and MongoDB are some 900
// files and about 0.4 of the 0.9 CPU-seconds a worker took to load the engine, the two AWS
// clients half a CPU-second more, and a sample or HTTPS pipeline uses none of them. All are
// CommonJS, so a synchronous require keeps their callers synchronous.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const kafkaLibrary = (): typeof import('kafkajs') => require('kafkajs') as typeof import('kafkajs');
export const mongoLibrary = (): typeof import('mongodb') => require('mongodb') as typeof import('mongodb');
export const s3Library = (): typeof import('@aws-sdk/client-s3') => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
export const kinesisLibrary = (): typeof import('@aws-sdk/client-kinesis') => require('@aws-sdk/client-kinesis') as typeof import('@aws-sdk/client-kinesis');
export const httpHandlerLibrary = (): typeof import('@smithy/node-http-handler') => require('@smithy/node-http-handler') as typeof import('@smithy/node-http-handler');
export const avroLibrary = (): typeof import('avsc') => require('avsc') as typeof import('avsc');
