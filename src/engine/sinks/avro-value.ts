// `$emit` to Kafka with `schemaRegistry.valueSchema` (sp-agg-emit): each value is the document
// Avro-encoded with the given schema and framed with that schema's id under the subject
// `subjectNameStrategy` names (registered first when `autoRegisterSchemas` is true, its
// default; otherwise a schema the registry does not know sends the document to the DLQ).
import type avro from 'avsc';
import { PipelineError } from '../contract.js';
import { AvroRecordError, encodeFramed, parseSchema, type SchemaRegistryClient } from '../connections/schema-registry.js';
import { isPlainObject, type Doc } from '../expressions/values.js';
import { refuseUnknownFields } from '../stage-options.js';
import { withRetries } from '../runtime/retry.js';

const STRATEGIES = ['TopicNameStrategy', 'RecordNameStrategy', 'TopicRecordNameStrategy'];

export class AvroValueEncoder {
  private readonly type: avro.Type;
  private readonly schemaText: string;
  private readonly strategy: string;
  private readonly autoRegister: boolean;
  private readonly ids = new Map<string, number>();

  constructor(spec: Doc, private readonly registry: SchemaRegistryClient) {
    const valueSchema = spec['valueSchema'];
    if (!isPlainObject(valueSchema)) throw new PipelineError('$emit.schemaRegistry.valueSchema must be a document');
    refuseUnknownFields('$emit.schemaRegistry.valueSchema', valueSchema, ['type', 'schema', 'options']);
    if (String(valueSchema['type'] ?? '').toLowerCase() !== 'avro') throw new PipelineError('$emit.schemaRegistry.valueSchema.type must be "avro"');
    this.type = parseSchema(valueSchema['schema'], '$emit.schemaRegistry.valueSchema.schema');
    this.schemaText = JSON.stringify(this.type.schema());
    const options = (valueSchema['options'] ?? {}) as Doc;
    refuseUnknownFields('$emit.schemaRegistry.valueSchema.options', options, ['subjectNameStrategy', 'autoRegisterSchemas']);
    this.strategy = String(options['subjectNameStrategy'] ?? 'TopicNameStrategy');
    if (!STRATEGIES.includes(this.strategy)) throw new PipelineError(`$emit.schemaRegistry.valueSchema.options.subjectNameStrategy must be one of ${STRATEGIES.join(', ')}`);
    if (options['autoRegisterSchemas'] !== undefined && typeof options['autoRegisterSchemas'] !== 'boolean') {
      throw new PipelineError('$emit.schemaRegistry.valueSchema.options.autoRegisterSchemas must be a boolean');
    }
    this.autoRegister = options['autoRegisterSchemas'] ?? true;
    if (!this.autoRegister && options['subjectNameStrategy'] !== undefined) {
      throw new PipelineError('$emit.schemaRegistry.valueSchema.options.subjectNameStrategy can only be set when autoRegisterSchemas is true');
    }
  }

  async encode(topic: string, doc: Doc): Promise<Buffer> {
    const subject = this.subject(topic);
    let id = this.ids.get(subject);
    if (id === undefined) {
      id = await withRetries(`getting the Avro schema id for subject ${subject}`, () => this.registry.idFor(subject, this.schemaText, this.autoRegister));
      // Looked up again for the next document: the schema may be registered meanwhile.
      if (id === undefined) throw new AvroRecordError(`the value schema is not registered under subject ${subject} and autoRegisterSchemas is false`);
      this.ids.set(subject, id);
    }
    return encodeFramed(this.type, id, doc);
  }

  private subject(topic: string): string {
    const recordName = (this.type as { name?: string }).name ?? 'record';
    if (this.strategy === 'RecordNameStrategy') return recordName;
    if (this.strategy === 'TopicRecordNameStrategy') return `${topic}-${recordName}`;
    return `${topic}-value`;
  }
}
