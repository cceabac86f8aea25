package broker

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/subscription"
)

// fakeCluster is a region whose streams this test leads or not at will;
// a led stream's replicated log is a plain segment log.
type fakeCluster struct {
	t       *testing.T
	dir     string
	mu      sync.Mutex
	streams map[naming.Stream]ClusterStream
	logs    map[naming.Stream]*segment.Log
	changed chan struct{}
	kv      memKV
}

func newFakeCluster(t *testing.T) *fakeCluster {
	return &fakeCluster{t: t, dir: t.TempDir(), streams: map[naming.Stream]ClusterStream{}, logs: map[naming.Stream]*segment.Log{}, changed: make(chan struct{})}
}

func (c *fakeCluster) Streams() (map[naming.Stream]ClusterStream, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[naming.Stream]ClusterStream, len(c.streams))
	for k, v := range c.streams {
		out[k] = v
	}
	return out, c.changed
}

func (c *fakeCluster) bump() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *fakeCluster) CreateStream(_ context.Context, name naming.Stream, info StreamInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.streams[name]; !ok {
		c.streams[name] = ClusterStream{Info: info, Leader: ClusterNode{ID: 2, HTTP: "http://node2"}}
		c.bump()
	}
	return nil
}

func (c *fakeCluster) DeleteStream(_ context.Context, name naming.Stream) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.streams, name)
	c.bump()
	return nil
}

func (c *fakeCluster) Cursors() subscription.Store { return nil }

func (c *fakeCluster) KVGet(key string) (string, bool, error) {
	return c.kv.KVRead(context.Background(), key)
}
func (c *fakeCluster) KVRead(ctx context.Context, key string) (string, bool, error) {
	return c.kv.KVRead(ctx, key)
}
func (c *fakeCluster) KVPut(ctx context.Context, key, value string) error {
	return c.kv.KVPut(ctx, key, value)
}
func (c *fakeCluster) KVDelete(ctx context.Context, key string) error { return c.kv.KVDelete(ctx, key) }
func (c *fakeCluster) KVDeletePrefix(ctx context.Context, prefix string) error {
	return c.kv.KVDeletePrefix(ctx, prefix)
}
func (c *fakeCluster) KVScan(ctx context.Context, prefix string) (map[string]string, error) {
	return c.kv.KVScan(ctx, prefix)
}

// memKV is the region's map in memory.
type memKV struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *memKV) KVRead(_ context.Context, key string) (string, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok, nil
}

func (k *memKV) KVScan(_ context.Context, prefix string) (map[string]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]string{}
	for key, v := range k.m {
		if strings.HasPrefix(key, prefix) {
			out[key] = v
		}
	}
	return out, nil
}

func (k *memKV) KVPut(_ context.Context, key, value string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	k.m[key] = value
	return nil
}

func (k *memKV) KVDelete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
	return nil
}

func (k *memKV) KVDeletePrefix(_ context.Context, prefix string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for key := range k.m {
		if strings.HasPrefix(key, prefix) {
			delete(k.m, key)
		}
	}
	return nil
}

// lead makes this node lead name (or another node when here is false).
func (c *fakeCluster) lead(name naming.Stream, here bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := c.streams[name]
	if here {
		l := c.logs[name]
		if l == nil {
			var err error
			l, err = segment.Open(vfs.OS(), filepath.Join(c.dir, name.Name), segment.Options{})
			if err != nil {
				c.t.Fatal(err)
			}
			c.t.Cleanup(func() { _ = l.Close() })
			c.logs[name] = l
		}
		cs.Leader, cs.Log = ClusterNode{ID: 1}, plainLog{l}
	} else {
		cs.Leader, cs.Log = ClusterNode{ID: 2, HTTP: "http://node2"}, nil
	}
	c.streams[name] = cs
	c.bump()
}

type plainLog struct{ l *segment.Log }

func (p plainLog) Log() *segment.Log              { return p.l }
func (p plainLog) Committed() subscription.Source { return p.l }
func (p plainLog) AppendAsync(recs []segment.Record, done func(uint64, error)) {
	p.l.AppendAsync(recs, done)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClusterStreams: in a region of several nodes, streams are the
// region's; a node serves the ones it leads, refuses the others naming
// their leader, and fences its producers when the lead moves away.
func TestClusterStreams(t *testing.T) {
	c := newFakeCluster(t)
	n, err := Open(Config{Region: "a", DataDir: t.TempDir(), Cluster: c}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	name := naming.Stream{Persistent: true, Tenant: "t", Fabric: "f", Name: "orders"}
	if err := n.EnsureTenant("t"); err != nil { // only streams are created by use
		t.Fatal(err)
	}
	if _, err := n.EnsureFabric("t", "f"); err != nil {
		t.Fatal(err)
	}
	s, err := n.CreateStream(name, StreamInfo{})
	if err != nil {
		t.Fatal(err)
	}
	var notOwner *NotOwnerError
	if _, err := s.AttachProducer("p", -1); !errors.As(err, &notOwner) || notOwner.Leader.ID != 2 {
		t.Fatalf("producer on a stream led elsewhere: %v", err)
	}
	if _, err := s.Subscribe(SubscribeOptions{Subscription: "sub"}); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("consumer on a stream led elsewhere: %v", err)
	}

	c.lead(name, true)
	var p *Producer
	eventually(t, "the lead taken", func() bool {
		p, err = s.AttachProducer("p", -1)
		return err == nil
	})
	res := p.Publish([]Message{{Payload: []byte("a"), SequenceID: -1}, {Payload: []byte("b"), SequenceID: -1}})
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if s.Source().EndOffset() != 2 {
		t.Fatalf("end %d", s.Source().EndOffset())
	}

	if _, err := s.EnsureSubscription("audit", subscription.Shared, subscription.Earliest); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.kv.KVRead(context.Background(), sharedPrefix+string(subMetaKey(name, "audit"))); !ok {
		t.Fatal("the durable subscription is not in the region's map")
	}
	c.lead(name, false)
	select {
	case <-p.Fenced():
	case <-time.After(10 * time.Second):
		t.Fatal("the producer was not fenced when the lead moved")
	}
	if res := p.Publish([]Message{{Payload: []byte("c"), SequenceID: -1}}); !errors.Is(res[0].Err, ErrNotOwner) {
		t.Fatalf("publish after the lead moved: %v", res[0].Err)
	}

	// Back here: de-duplication remembers what the log holds.
	c.lead(name, true)
	var p2 *Producer
	eventually(t, "the lead taken again", func() bool {
		p2, err = s.AttachProducer("p2", -1)
		return err == nil
	})
	p2.Close()
	p.Close()
	s.mu.Lock()
	_, reopened := s.subs["audit"]
	s.mu.Unlock()
	if !reopened {
		t.Fatal("the durable subscription was not reopened by the new leader")
	}
	var p3 *Producer
	if p3, err = s.AttachProducer("p", -1); err != nil {
		t.Fatal(err)
	}
	if res := p3.Publish([]Message{{Payload: []byte("b"), SequenceID: 1}}); !res[0].Duplicate {
		t.Fatalf("a re-sent message after the lead came back: %+v", res[0])
	}

	if err := n.DeleteStream(name, true); err != nil {
		t.Fatal(err)
	}
	if m, _ := c.kv.KVScan(context.Background(), sharedPrefix+string(subMetaKey(name, ""))); len(m) != 0 {
		t.Fatalf("the deleted stream's subscriptions stay in the region's map: %v", m)
	}
	eventually(t, "the stream gone", func() bool { _, err := n.Stream(name); return err != nil })
}
