// Package kafka owns Causeway's Kafka protocol front end: a TCP listener
// that speaks the Kafka wire protocol well enough for unchanged Kafka
// clients (librdkafka/kcat, franz-go, kafka-go, sarama) to produce to and
// consume from Causeway streams.
//
// Requests and responses are decoded and encoded with franz-go's kmsg; each
// API key has its own handler file (00_produce.go, 01_fetch.go, ...), served
// from one request loop per connection (conn.go).
//
// # Mapping
//
//   - A topic T is the stream persistent://{tenant}/{fabric}/T (the tenant
//     and fabric are configured, default _mm/_system). A topic created with
//     N > 1 partitions is the streams T-partition-0 .. T-partition-{N-1}
//     (Pulsar's convention); a topic created with one partition keeps T as
//     partition 0 when partitions are added (T-partition-1, ...). Any
//     other stream of the fabric is a topic with one partition.
//   - Topic metadata is fabric-wide (topicmeta.go): creations (CreateTopics,
//     auto-creation), partition increases (CreatePartitions) and deletions
//     are events replicated to every region, merged the same way
//     everywhere whatever their order (topicmerge.go: partition count =
//     the largest; layout = the earliest creation's; configs = the latest
//     creation's by (HLC, region); a deletion forgets what is older than
//     it). In a fabric of several regions a topic asked for with
//     auto-creation is answered LEADER_NOT_AVAILABLE for
//     Config.AutoCreateWait before this region creates it, so that a topic
//     created elsewhere arrives instead of being forked.
//   - Offsets are stream offsets. The Kafka key is the message key, the
//     value is the payload, and headers are properties (of a repeated key
//     the last value, a null value as ""), which every front end shows;
//     when that map cannot say the headers (a repeated key, keys out of
//     sorted order, a null value) the ordered list is also kept, encoded,
//     in the internal property broker.KafkaHeadersProperty (headers.go),
//     so Kafka clients get the headers back as they were sent. WebSocket
//     consumers do not see it. The Kafka record timestamp is kept as the
//     message's event time and returned as a CreateTime timestamp;
//     messages published without an event time (WebSocket) return their
//     publish time.
//   - Consumer groups: membership and rebalancing live in memory on this
//     node, which is every group's coordinator in a region of one node
//     (groups.go is the pure state machine, coordinator.go drives it).
//     Committed offsets are Causeway cursors: committing offset N on
//     partition p acknowledges everything below N on the subscription
//     named after the group on p's stream, and OffsetFetch returns that
//     subscription's mark-delete position. A WebSocket consumer on the subscription sees the same
//     position, and the other way round. Commits are persisted the way
//     acks are: shortly after, and for sure on a clean shutdown. A group
//     with such a subscription and no member is Empty (described and
//     listed); DeleteGroups removes its subscriptions (storedgroups.go).
//     Groups and their offsets are per region, as subscriptions are.
//   - In a region of several nodes (cluster.go) every node is a broker:
//     Metadata names each partition's leader, replicas and in-sync
//     replicas as the region's metadata says, and a node answers Produce,
//     Fetch and ListOffsets of a partition it does not lead with
//     NOT_LEADER_OR_FOLLOWER. Topic metadata is the region's
//     (regiontopics.go). Each group has one coordinator, picked from the
//     group id among the live nodes; committed offsets are kept in the
//     region's replicated key-value map, not in subscriptions
//     (regionoffsets.go), so they survive the loss of any node.
//   - Idempotent producers: InitProducerId hands out producer ids; per
//     (producer id, partition) the last five batches' sequence ranges and
//     offsets are kept in memory (sequences.go), so a re-sent batch is
//     answered with its original offset and a gap with
//     OUT_OF_ORDER_SEQUENCE_NUMBER. Transactions are not supported.
//
// Not supported: transactions (transactional ids are refused), incremental
// fetch sessions (answered with session id 0, so clients send full
// fetches), topic IDs (Fetch stops at v12), KIP-848 groups, and timestamps
// in ListOffsets other than publish times.
//
// # Limits
//
// Every request is bounded (Config.MaxRequestBytes; a larger one closes its
// connection before anything of it is read, and is counted), as are the
// requests in flight per connection, a batch's decompressed size and the
// records returned per fetched partition. A logged-in principal's requests
// take its request rate (throttle.go): over it, they are served with a
// throttle time and the connection is muted for that long, as Kafka does.
// Malformed input (a bad size, an undecodable request, an unsupported
// version of anything but ApiVersions, a record batch with a bad CRC or
// length) closes the connection, after the error response where Kafka
// sends one; it never harms the node.
package kafka
