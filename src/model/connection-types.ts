// The stream connection types Atlas serves (the spec's StreamsConnection discriminator): the
// one list the web console offers and the model test checks against the spec.
export const CONNECTION_TYPES = ['Kafka', 'Cluster', 'Sample', 'Https', 'AWSLambda', 'S3', 'AWSKinesisDataStreams', 'AzureBlobStorage', 'GCPPubSub', 'SchemaRegistry'] as const;
