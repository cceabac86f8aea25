// Package causewayws carries the pubsub workload over Causeway's WebSocket
// API with the Go client (clients/): batched asynchronous producers and
// push-mode consumers that acknowledge every message individually.
package causewayws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/causeway/causeway/bench/pubsub"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/clients"
)

// Target is a Causeway node (or region) reached at a base URL.
type Target struct {
	base           string
	tenant, fabric string
	client         *clients.Client
	httpc          *http.Client
	plan           pubsub.Plan
	global         bool
	batchMaxDelay  time.Duration
	token          string
	binary         bool
}

// Options configures the target.
type Options struct {
	Tenant, Fabric string // default _mm/_system
	Global         bool   // create global streams
	// Token authenticates every request (an API key or a token; see
	// causeway serve --auth).
	Token string
	// BatchMaxDelay is how long a producer waits to fill a batch frame
	// (default the client's, 1ms).
	BatchMaxDelay time.Duration
	// Binary speaks causeway-binary-v1 (clients.WithBinaryProtocol)
	// instead of Pulsar's JSON frames; the target is then named
	// "causeway-binary" in reports.
	Binary bool
}

// New returns a target for the node at baseURL ("http://host:port").
func New(baseURL string, o Options) (*Target, error) {
	if o.Tenant == "" {
		o.Tenant = naming.DefaultTenant
	}
	if o.Fabric == "" {
		o.Fabric = naming.SystemFabric
	}
	c, err := clients.New(baseURL, clients.WithTenant(o.Tenant), clients.WithFabric(o.Fabric), clients.WithToken(o.Token),
		clients.WithBinaryProtocol(o.Binary))
	if err != nil {
		return nil, fmt.Errorf("causewayws: %w", err)
	}
	return &Target{base: strings.TrimSuffix(baseURL, "/"), tenant: o.Tenant, fabric: o.Fabric, client: c,
		httpc: &http.Client{Timeout: 30 * time.Second}, global: o.Global, batchMaxDelay: o.BatchMaxDelay, token: o.Token, binary: o.Binary}, nil
}

// Name is "causeway", or "causeway-binary" with Options.Binary.
func (t *Target) Name() string {
	if t.binary {
		return "causeway-binary"
	}
	return "causeway"
}

// partitions lists the streams behind one workload stream: itself, or
// Pulsar-style {name}-partition-{i} streams.
func (t *Target) partitions(stream string) []string {
	if t.plan.Partitions <= 1 {
		return []string{stream}
	}
	out := make([]string, t.plan.Partitions)
	for i := range out {
		out[i] = fmt.Sprintf("%s-partition-%d", stream, i)
	}
	return out
}

// Prepare creates the streams (one that exists already, e.g. a global
// stream created in another region, is fine); subscriptions are created by
// the consumers (from the earliest message).
func (t *Target) Prepare(ctx context.Context, p pubsub.Plan) error {
	t.plan = p
	for _, s := range p.Streams {
		for _, name := range t.partitions(s) {
			err := t.client.CreateStream(ctx, name, t.global)
			var refused *clients.RefusedError
			if errors.As(err, &refused) && refused.Status == http.StatusConflict {
				err = nil
			}
			if err != nil {
				return fmt.Errorf("causewayws: %w", err)
			}
		}
	}
	return nil
}

// Cleanup deletes the streams.
func (t *Target) Cleanup(ctx context.Context, p pubsub.Plan) error {
	var errs []error
	for _, s := range p.Streams {
		for _, name := range t.partitions(s) {
			if err := t.deleteStream(ctx, name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (t *Target) deleteStream(ctx context.Context, name string) error {
	p := "/_fabric/" + url.PathEscape(t.fabric) + "/_api/streams/" + url.PathEscape(name)
	if t.tenant != naming.DefaultTenant {
		p = "/_tenant/" + url.PathEscape(t.tenant) + p
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, t.base+p+"?force=true", nil)
	if err != nil {
		return fmt.Errorf("causewayws: delete stream %s: %w", name, err)
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := t.httpc.Do(req)
	if err != nil {
		return fmt.Errorf("causewayws: delete stream %s: %w", name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("causewayws: delete stream %s: HTTP %d", name, resp.StatusCode)
	}
	return nil
}

// Close closes every producer and consumer.
func (t *Target) Close() error { return t.client.Close() }

// producer round-robins over the partitions of one stream.
type producer struct {
	ps   []*clients.Producer
	next int
	mu   sync.Mutex
}

// NewProducer connects one client producer per partition.
func (t *Target) NewProducer(ctx context.Context, id int, stream string) (pubsub.Producer, error) {
	parts := t.partitions(stream)
	pr := &producer{}
	for _, name := range parts {
		p, err := t.client.CreateProducer(ctx, clients.ProducerOptions{
			Stream:             name,
			Name:               fmt.Sprintf("bench-%s-%d", name, id),
			MaxPendingMessages: max(t.plan.MaxInFlight/len(parts), 1),
			BatchMaxDelay:      t.batchMaxDelay,
		})
		if err != nil {
			_ = pr.Close()
			return nil, fmt.Errorf("causewayws: %w", err)
		}
		pr.ps = append(pr.ps, p)
	}
	return pr, nil
}

func (p *producer) Publish(payload []byte, done func(error)) {
	p.mu.Lock()
	cp := p.ps[p.next]
	p.next = (p.next + 1) % len(p.ps)
	p.mu.Unlock()
	cp.SendAsync(clients.ProducerMessage{Payload: payload}, func(_ wsproto.MessageID, err error) { done(err) })
}

func (p *producer) Flush(ctx context.Context) error {
	var errs []error
	for _, cp := range p.ps {
		if err := cp.Flush(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *producer) Close() error {
	for _, cp := range p.ps {
		_ = cp.Close()
	}
	return nil
}

type consumer struct {
	c      *clients.Consumer
	cancel context.CancelFunc
	done   chan struct{}
}

// NewConsumer subscribes from the earliest message and acknowledges each
// message after delivering it.
func (t *Target) NewConsumer(ctx context.Context, spec pubsub.ConsumerSpec, deliver pubsub.Deliver, fail func(error)) (pubsub.Consumer, error) {
	typ, err := clients.ParseSubscriptionType(spec.Type)
	if err != nil {
		return nil, fmt.Errorf("causewayws: %w", err)
	}
	c, err := t.client.Subscribe(ctx, clients.ConsumerOptions{
		Streams:           t.partitions(spec.Stream),
		Subscription:      spec.Subscription,
		Type:              typ,
		InitialPosition:   clients.Earliest,
		ConsumerName:      fmt.Sprintf("bench-%d", spec.ID),
		ReceiverQueueSize: t.plan.ReceiveQueue,
	})
	if err != nil {
		return nil, fmt.Errorf("causewayws: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	cons := &consumer{c: c, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(cons.done)
		for {
			m, err := c.Receive(rctx)
			if err != nil {
				if rctx.Err() == nil && !errors.Is(err, clients.ErrClosed) {
					fail(err)
				}
				return
			}
			deliver(m.Payload, time.Now())
			if err := c.Ack(m); err != nil && rctx.Err() == nil {
				fail(err)
			}
		}
	}()
	return cons, nil
}

func (c *consumer) Close() error {
	c.cancel()
	<-c.done
	return c.c.Close()
}
