// Package redisstreams carries the pubsub workload over Redis Streams with
// go-redis: producers pipeline XADDs (up to a batch per round trip, a few
// round trips in flight, bounded to MaxInFlight messages) and consumers
// read with XREADGROUP from one consumer group per subscription and XACK
// what they delivered. It is used to put Causeway side by side with Redis
// (AOF persistence) on the same machine.
package redisstreams

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/causeway/causeway/bench/pubsub"
)

// Client settings.
const (
	batchMaxMessages     = 1000 // XADDs in one pipeline
	pipelinesPerProducer = 4    // pipelines in flight per producer
	readBlock            = 100 * time.Millisecond
	poolConnections      = 256
	payloadField         = "d"
)

// Target is a Redis server.
type Target struct {
	rdb  *redis.Client
	plan pubsub.Plan
}

// New connects to the server at addr (host:port).
func New(addr string) (*Target, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: poolConnections, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redisstreams: ping %s: %w", addr, err)
	}
	return &Target{rdb: rdb}, nil
}

// Name is "redis".
func (t *Target) Name() string { return "redis" }

// Prepare creates each stream with one consumer group per subscription,
// reading from the start.
func (t *Target) Prepare(ctx context.Context, p pubsub.Plan) error {
	if p.Partitions > 1 {
		return errors.New("redisstreams: partitions are not supported (one Redis stream per workload stream)")
	}
	t.plan = p
	for _, s := range p.Streams {
		for _, sub := range p.Subscriptions {
			if err := t.rdb.XGroupCreateMkStream(ctx, s, sub, "0").Err(); err != nil {
				return fmt.Errorf("redisstreams: create group %s on %s: %w", sub, s, err)
			}
		}
	}
	return nil
}

// Cleanup deletes the streams.
func (t *Target) Cleanup(ctx context.Context, p pubsub.Plan) error {
	if err := t.rdb.Del(ctx, p.Streams...).Err(); err != nil {
		return fmt.Errorf("redisstreams: delete streams: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (t *Target) Close() error { return t.rdb.Close() }

type item struct {
	payload []byte
	done    func(error)
}

type producer struct {
	rdb     *redis.Client
	stream  string
	queue   chan item   // bounded by MaxInFlight
	batches chan []item // to the pipeline workers
	open    atomic.Int64
	wg      sync.WaitGroup
}

// NewProducer starts a batching goroutine and pipelinesPerProducer
// pipeline workers.
func (t *Target) NewProducer(ctx context.Context, id int, stream string) (pubsub.Producer, error) {
	p := &producer{rdb: t.rdb, stream: stream, queue: make(chan item, t.plan.MaxInFlight), batches: make(chan []item)}
	p.wg.Add(1 + pipelinesPerProducer)
	go p.batch()
	for range pipelinesPerProducer {
		go p.work()
	}
	return p, nil
}

// batch cuts what is queued into batches of at most batchMaxMessages.
func (p *producer) batch() {
	defer p.wg.Done()
	defer close(p.batches)
	for first := range p.queue {
		b := []item{first}
	fill:
		for len(b) < batchMaxMessages {
			select {
			case it, ok := <-p.queue:
				if !ok {
					break fill
				}
				b = append(b, it)
			default:
				break fill
			}
		}
		p.batches <- b
	}
}

func (p *producer) work() {
	defer p.wg.Done()
	ctx := context.Background()
	for b := range p.batches {
		pipe := p.rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(b))
		for i, it := range b {
			cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: p.stream, Values: []any{payloadField, it.payload}})
		}
		_, _ = pipe.Exec(ctx) // per-command errors are in cmds
		for i, it := range b {
			it.done(cmds[i].Err())
		}
		p.open.Add(-int64(len(b)))
	}
}

func (p *producer) Publish(payload []byte, done func(error)) {
	p.open.Add(1)
	p.queue <- item{payload: append([]byte(nil), payload...), done: done}
}

func (p *producer) Flush(ctx context.Context) error {
	for p.open.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

func (p *producer) Close() error {
	close(p.queue)
	p.wg.Wait()
	return nil
}

type consumer struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// NewConsumer reads new entries of its group, delivers them and XACKs each
// read batch in one command.
func (t *Target) NewConsumer(ctx context.Context, spec pubsub.ConsumerSpec, deliver pubsub.Deliver, fail func(error)) (pubsub.Consumer, error) {
	rctx, cancel := context.WithCancel(context.Background())
	c := &consumer{cancel: cancel, done: make(chan struct{})}
	name := fmt.Sprintf("bench-%d", spec.ID)
	go func() {
		defer close(c.done)
		for rctx.Err() == nil {
			res, err := t.rdb.XReadGroup(rctx, &redis.XReadGroupArgs{
				Group: spec.Subscription, Consumer: name, Streams: []string{spec.Stream, ">"},
				Count: int64(t.plan.ReceiveQueue), Block: readBlock,
			}).Result()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				if rctx.Err() == nil {
					fail(err)
					select {
					case <-rctx.Done():
					case <-time.After(100 * time.Millisecond):
					}
				}
				continue
			}
			for _, s := range res {
				ids := make([]string, 0, len(s.Messages))
				for _, m := range s.Messages {
					if v, ok := m.Values[payloadField].(string); ok {
						deliver([]byte(v), time.Now())
					}
					ids = append(ids, m.ID)
				}
				if len(ids) > 0 {
					if err := t.rdb.XAck(rctx, spec.Stream, spec.Subscription, ids...).Err(); err != nil && rctx.Err() == nil {
						fail(err)
					}
				}
			}
		}
	}()
	return c, nil
}

func (c *consumer) Close() error {
	c.cancel()
	<-c.done
	return nil
}
