package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// Committed offsets in a region of several nodes. A group's coordinator
// is one node (coordinatorOf) while its partitions are led by any, so a
// commit cannot be a subscription cursor on the partition's leader the way
// it is on a node alone. It is a key of the region's replicated key-value
// map instead, "kafka/offsets/{tenant}/{fabric}/{stream}/{group}" = the
// offset in decimal: committed through the region's metadata group before
// OffsetCommit answers, so it survives the loss of any one node, the
// coordinator and the partition's leader included, and the next
// coordinator reads it after a linearizable read. Such offsets are not
// WebSocket subscriptions (a WebSocket consumer of a subscription named
// after the group does not share them), and a topic's deletion deletes
// them.

// offsetKeyPrefix starts every committed offset's key.
const offsetKeyPrefix = "kafka/offsets/"

// maxParallelCommits bounds the commits of one OffsetCommit in flight.
const maxParallelCommits = 16

// offsetKey is the key of group's committed offset on a partition stream.
func offsetKey(tenant, fabric, stream, group string) string {
	return offsetStreamPrefix(tenant, fabric, stream) + group
}

// offsetStreamPrefix starts the keys of every group's offset on stream.
func offsetStreamPrefix(tenant, fabric, stream string) string {
	return offsetKeyPrefix + tenant + "/" + fabric + "/" + stream + "/"
}

// parseOffset decodes a stored offset.
func parseOffset(v string) (int64, error) {
	off, err := strconv.ParseInt(v, 10, 64)
	if err != nil || off < 0 {
		return 0, fmt.Errorf("kafka: stored offset %q is not an offset", v)
	}
	return off, nil
}

// partitionKey is the region key of group's offset on topic's partition,
// or the error code of a partition that does not exist.
func (c *conn) partitionKey(group, topic string, partition int32) (string, int16) {
	stream, err := c.s.topics.stream(topic, partition)
	if err != nil {
		return "", errorCode(err)
	}
	name := stream.Name()
	return offsetKey(name.Tenant, name.Fabric, name.Name, group), 0
}

// commitRegion commits every partition of resp still without an error,
// several at a time.
func (c *conn) commitRegion(req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse) {
	ctx, cancel := requestContext(c.ctx, 0)
	defer cancel()
	sem := make(chan struct{}, maxParallelCommits)
	var wg sync.WaitGroup
	for i, rt := range req.Topics {
		for j, rp := range rt.Partitions {
			out := &resp.Topics[i].Partitions[j]
			if out.ErrorCode != 0 {
				continue
			}
			if rp.Offset < 0 {
				out.ErrorCode = kerr.InvalidCommitOffsetSize.Code
				continue
			}
			key, code := c.partitionKey(req.Group, rt.Topic, rp.Partition)
			if code != 0 {
				out.ErrorCode = code
				continue
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := c.s.cluster.kv.KVPut(ctx, key, strconv.FormatInt(rp.Offset, 10)); err != nil {
					c.log.Warn("committing an offset in the region", zap.String("group", req.Group), zap.String("topic", rt.Topic),
						zap.Int32("partition", rp.Partition), zap.Error(err))
					out.ErrorCode = commitFailureCode(err)
				}
			}()
		}
	}
	wg.Wait()
}

// commitFailureCode is the error code of a commit the region's map did
// not take: retriable when the group was unavailable or timed out.
func commitFailureCode(err error) int16 {
	if isRegionUnavailable(err) || errors.Is(err, context.DeadlineExceeded) {
		return kerr.CoordinatorNotAvailable.Code
	}
	return kerr.UnknownServerError.Code
}

// syncRegion makes this node's copy of the region's map reflect every
// commit that returned before the call (a linearizable read), so that a
// coordinator that just took over a group sees its offsets.
func (c *conn) syncRegion(group string) error {
	ctx, cancel := requestContext(c.ctx, 0)
	defer cancel()
	_, _, err := c.s.cluster.kv.KVRead(ctx, offsetKeyPrefix+group)
	return err
}

// committedRegion is group's committed offset on a partition, -1 where it
// has none; syncRegion comes first.
func (c *conn) committedRegion(group, topic string, partition int32) kmsg.OffsetFetchResponseTopicPartition {
	p := kmsg.NewOffsetFetchResponseTopicPartition()
	p.Partition = partition
	p.Offset = -1
	p.LeaderEpoch = -1
	key, code := c.partitionKey(group, topic, partition)
	if code != 0 {
		p.ErrorCode = code
		return p
	}
	v, found, err := c.s.cluster.kv.KVGet(key)
	if err != nil {
		p.ErrorCode = c.s.groupReadCode(err)
		return p
	}
	if !found {
		return p
	}
	off, err := parseOffset(v)
	if err != nil {
		c.log.Error("committed offset", zap.String("key", key), zap.Error(err))
		p.ErrorCode = kerr.UnknownServerError.Code
		return p
	}
	p.Offset = off
	return p
}

// regionOffsetKeys returns the keys of group's committed offsets on the
// fabric's topics (every partition of every topic is looked up in this
// node's copy).
func (s *Server) regionOffsetKeys(group string) ([]string, error) {
	views, err := s.topics.meta.all(s.cfg.Tenant, s.cfg.Fabric)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, topic := range sortedViews(views) {
		v := views[topic]
		for p := range v.Partitions {
			key := offsetKey(s.cfg.Tenant, s.cfg.Fabric, v.partitionStreamName(topic, p), group)
			_, found, err := s.cluster.kv.KVGet(key)
			if err != nil {
				return nil, err
			}
			if found {
				keys = append(keys, key)
			}
		}
	}
	return keys, nil
}

// hasRegionOffsets reports whether group has committed offsets.
func (s *Server) hasRegionOffsets(group string) (bool, error) {
	keys, err := s.regionOffsetKeys(group)
	return len(keys) > 0, err
}

// deleteRegionOffsets deletes group's committed offsets; errGroupNotFound
// when it has none and was not in memory.
func (s *Server) deleteRegionOffsets(group string, inMemory bool) error {
	keys, err := s.regionOffsetKeys(group)
	if err != nil {
		return err
	}
	if !inMemory && len(keys) == 0 {
		return errGroupNotFound
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	var errs []error
	for _, key := range keys {
		if err := s.cluster.kv.KVDelete(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// kvScanner is a RegionKV that can also list a prefix (server/cluster's
// Streams can, as of a linearizable read).
type kvScanner interface {
	KVScan(ctx context.Context, prefix string) (map[string]string, error)
}

// regionGroups returns the groups with committed offsets on the fabric's
// streams: none when the region's map cannot be listed.
func (s *Server) regionGroups() (map[string]bool, error) {
	out := map[string]bool{}
	sc, ok := s.cluster.kv.(kvScanner)
	if !ok {
		return out, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	prefix := offsetKeyPrefix + s.cfg.Tenant + "/" + s.cfg.Fabric + "/"
	kvs, err := sc.KVScan(ctx, prefix)
	if err != nil {
		return nil, err
	}
	for key := range kvs {
		if group, ok := groupOfOffsetKey(prefix, key); ok {
			out[group] = true
		}
	}
	return out, nil
}

// groupOfOffsetKey is the group of an offset's key under a fabric's
// prefix ("{stream}/{group}" follow it; names hold no '/').
func groupOfOffsetKey(prefix, key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", false
	}
	stream, group, ok := strings.Cut(rest, "/")
	if !ok || stream == "" || group == "" || strings.Contains(group, "/") {
		return "", false
	}
	return group, true
}

// sortedViews returns the topics of views sorted.
func sortedViews(views map[string]topicView) []string {
	counts := make(map[string]int, len(views))
	for name, v := range views {
		counts[name] = v.Partitions
	}
	return sortedNames(counts)
}
