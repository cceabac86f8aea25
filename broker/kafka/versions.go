package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// apiRange is the versions of one API key this front end serves.
type apiRange struct{ min, max int16 }

// supportedAPIs lists every API key served and its versions. The ranges
// stop before versions that need features not implemented here (topic IDs
// in Fetch, KIP-848 groups, batched OffsetFetch), so clients never pick
// them. Produce is advertised from v0 although v0-v2 (message format 0/1)
// are refused per partition: older librdkafka turns compression off when
// the advertised minimum is 3 or more.
var supportedAPIs = map[int16]apiRange{
	0:  {0, 9},  // Produce (v9 flexible)
	1:  {4, 12}, // Fetch (v4: record batches; v12 flexible; v13 needs topic IDs)
	2:  {0, 7},  // ListOffsets (v6 flexible)
	3:  {0, 12}, // Metadata (v9 flexible)
	8:  {0, 8},  // OffsetCommit (v8 flexible)
	9:  {0, 7},  // OffsetFetch (v6 flexible; v8 batches groups)
	10: {0, 4},  // FindCoordinator (v3 flexible, v4 batched keys)
	11: {0, 7},  // JoinGroup (v4 member id required, v6 flexible)
	12: {0, 4},  // Heartbeat (v4 flexible)
	13: {0, 4},  // LeaveGroup (v3 batched members, v4 flexible)
	14: {0, 5},  // SyncGroup (v4 flexible)
	15: {0, 5},  // DescribeGroups (v5 flexible)
	16: {0, 4},  // ListGroups (v3 flexible)
	17: {0, 1},  // SaslHandshake (librdkafka needs v0 listed; only v1 logins, through SaslAuthenticate, are served)
	18: {0, 3},  // ApiVersions (v3 flexible request, never a flexible response header)
	19: {0, 7},  // CreateTopics (v5 flexible)
	20: {0, 5},  // DeleteTopics (v4 flexible; v6 topic IDs)
	22: {0, 4},  // InitProducerId (v2 flexible)
	32: {0, 4},  // DescribeConfigs (v4 flexible)
	36: {0, 2},  // SaslAuthenticate (v2 flexible)
	37: {0, 3},  // CreatePartitions (v2 flexible)
	42: {0, 2},  // DeleteGroups (v2 flexible)
}

// supported reports whether version of key is served.
func supported(key, version int16) bool {
	r, ok := supportedAPIs[key]
	return ok && version >= r.min && version <= r.max
}

// apiVersionKeys is the ApiVersions response's list, sorted by key.
func apiVersionKeys() []kmsg.ApiVersionsResponseApiKey {
	out := make([]kmsg.ApiVersionsResponseApiKey, 0, len(supportedAPIs))
	for key := int16(0); key < 100; key++ {
		r, ok := supportedAPIs[key]
		if !ok {
			continue
		}
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = key, r.min, r.max
		out = append(out, k)
	}
	return out
}
