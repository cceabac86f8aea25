package cluster

import "context"

// KVScan returns every key of the region's key-value map starting with
// prefix and its value, as of a linearizable read (the broker lists a
// stream's durable subscriptions and a tenant's partitioned topics with
// it).
func (s *Streams) KVScan(ctx context.Context, prefix string) (map[string]string, error) {
	rt := s.running.Load()
	if rt == nil {
		return nil, errNotStarted
	}
	return rt.meta.Scan(ctx, prefix)
}
