package broker

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/subscription"
)

const prefixSub = "meta/sub/"

func subMetaKey(s naming.Stream, sub string) []byte {
	return []byte(prefixSub + s.Tenant + "/" + s.Fabric + "/" + s.Name + "/" + sub)
}

func cursorKey(s naming.Stream, sub string) string {
	return "cursor/" + s.Tenant + "/" + s.Fabric + "/" + s.Name + "/" + sub
}

// subMeta is the durable description of a subscription.
type subMeta struct {
	Type string `json:"type"`
}

// SubscribeOptions are what a consumer asks for when it attaches.
type SubscribeOptions struct {
	Subscription string
	Consumer     subscription.ConsumerSpec
	// DeadLetterStream overrides the default "{stream}-{subscription}-DLQ".
	DeadLetterStream string
}

// Subscribe attaches a consumer to a subscription, creating the subscription
// (durably, for persistent streams) on first use.
func (s *Stream) Subscribe(o SubscribeOptions) (*subscription.Consumer, error) {
	if err := naming.Validate("subscription", o.Subscription); err != nil {
		return nil, err
	}
	if o.DeadLetterStream != "" {
		if err := naming.Validate("dead-letter stream", o.DeadLetterStream); err != nil {
			return nil, err
		}
	}
	sub, err := s.openSubscription(o)
	if err != nil {
		return nil, err
	}
	if len(sub.Stats().Consumers) >= s.node.cfg.MaxConsumersPerSubscription {
		return nil, fmt.Errorf("%w: limit %d", ErrTooManyConsumers, s.node.cfg.MaxConsumersPerSubscription)
	}
	c, err := sub.Attach(o.Consumer)
	if err != nil {
		return nil, fmt.Errorf("broker: subscribe %s on %s: %w", o.Subscription, s.name, err)
	}
	s.node.metrics.Consumers.Add(1)
	go func() {
		<-c.Done()
		s.node.metrics.Consumers.Add(-1)
	}()
	return c, nil
}

func (s *Stream) openSubscription(o SubscribeOptions) (*subscription.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted {
		return nil, fmt.Errorf("%w: %s", ErrStreamNotFound, s.name)
	}
	if err := s.notOwnerLocked(); err != nil {
		return nil, err
	}
	if sub, ok := s.subs[o.Subscription]; ok {
		return sub, nil
	}
	if len(s.subs) >= s.node.cfg.MaxSubscriptionsPerStream {
		return nil, fmt.Errorf("%w: limit %d on %s", ErrTooManySubs, s.node.cfg.MaxSubscriptionsPerStream, s.name)
	}
	sub, err := s.newSubscriptionLocked(o.Subscription, o.Consumer.Type, o.Consumer.Initial, o)
	if err != nil {
		return nil, err
	}
	if s.plog != nil {
		if err := s.node.saveShared(subMetaKey(s.name, o.Subscription), subMeta{Type: o.Consumer.Type.String()}); err != nil {
			_ = sub.Close()
			return nil, err
		}
	}
	s.subs[o.Subscription] = sub
	return sub, nil
}

func (s *Stream) newSubscriptionLocked(name string, typ subscription.Type, initial subscription.Position, o SubscribeOptions) (*subscription.Subscription, error) {
	dlq := o.DeadLetterStream
	if dlq == "" {
		dlq = s.name.Name + "-" + name + "-DLQ"
	}
	cfg := subscription.Config{
		Name:                  name,
		Type:                  typ,
		Initial:               initial,
		AckTimeout:            o.Consumer.AckTimeout,
		NackDelay:             o.Consumer.NackDelay,
		MaxRedeliverCount:     o.Consumer.MaxRedeliverCount,
		DeadLetter:            s.deadLetterFunc(dlq),
		MaxUnackedPerConsumer: s.node.cfg.MaxUnackedPerConsumer,
		Logger:                s.log.With(zap.String("subscription", name)),
	}
	var store subscription.Store = s.node.cursors
	if s.plog == nil {
		store = newMemCursorStore()
	}
	sub, err := subscription.Open(cfg, s.src, store, cursorKey(s.name, name))
	if err != nil {
		return nil, fmt.Errorf("broker: open subscription %s on %s: %w", name, s.name, err)
	}
	return sub, nil
}

// loadSubscriptions reopens the durable subscriptions of a persistent stream
// so their backlog is tracked while no consumer is attached. s.mu is held,
// or the stream is not visible yet.
func (s *Stream) loadSubscriptions() error {
	prefix := string(subMetaKey(s.name, ""))
	return s.node.scanShared(prefix, func(name string, val []byte) error {
		var m subMeta
		if err := json.Unmarshal(val, &m); err != nil {
			return fmt.Errorf("broker: subscription %s on %s: %w", name, s.name, err)
		}
		typ, err := subscription.ParseType(m.Type)
		if err != nil {
			return fmt.Errorf("broker: subscription %s on %s: %w", name, s.name, err)
		}
		if _, open := s.subs[name]; open {
			return nil
		}
		sub, err := s.newSubscriptionLocked(name, typ, subscription.Earliest, SubscribeOptions{})
		if err != nil {
			return err
		}
		s.subs[name] = sub
		return nil
	})
}

// deadLetterFunc publishes a message that exhausted its redeliveries to the
// dead-letter stream (same tenant and fabric), as Pulsar does, with the
// properties REAL_TOPIC and ORIGIN_MESSAGE_ID added.
func (s *Stream) deadLetterFunc(dlqName string) func(segment.Record) error {
	return func(rec segment.Record) error {
		name := naming.Stream{Persistent: true, Tenant: s.name.Tenant, Fabric: s.name.Fabric, Name: dlqName}
		dlq, err := s.node.StreamForUse(name, nil)
		if err != nil {
			return fmt.Errorf("broker: dead-letter stream %s: %w", name, err)
		}
		props := make(map[string]string, len(rec.Properties)+2)
		for k, v := range rec.Properties {
			props[k] = v
		}
		props["REAL_TOPIC"] = s.name.String()
		props["ORIGIN_MESSAGE_ID"] = strconv.FormatUint(rec.Offset, 10)
		p := &Producer{stream: dlq, name: "dlq-" + s.node.cfg.Region, lastSeq: -1}
		res := p.Publish([]Message{{Key: rec.Key, Properties: props, Payload: rec.Payload, EventTime: rec.EventTime, SequenceID: -1}})
		return res[0].Err
	}
}

// Subscription returns an existing subscription.
func (s *Stream) Subscription(name string) (*subscription.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subs[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s on %s", ErrSubNotFound, name, s.name)
	}
	return sub, nil
}

// SubscriptionStats returns every subscription's stats by name.
func (s *Stream) SubscriptionStats() map[string]subscription.Stats {
	s.mu.Lock()
	subs := make(map[string]*subscription.Subscription, len(s.subs))
	for k, v := range s.subs {
		subs[k] = v
	}
	s.mu.Unlock()
	out := make(map[string]subscription.Stats, len(subs))
	for k, v := range subs {
		out[k] = v.Stats()
	}
	return out
}

// ProducerNames lists attached producers.
func (s *Stream) ProducerNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.producers))
	for name := range s.producers {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// DeleteSubscription removes a subscription and its cursor. Without force
// it refuses while consumers are attached.
func (s *Stream) DeleteSubscription(name string, force bool) error {
	s.mu.Lock()
	sub, ok := s.subs[name]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s on %s", ErrSubNotFound, name, s.name)
	}
	if !force && len(sub.Stats().Consumers) > 0 {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrSubInUse, name)
	}
	delete(s.subs, name)
	s.mu.Unlock()
	_ = sub.Close()
	return s.forgetSubscription(name)
}

func (s *Stream) forgetSubscription(name string) error {
	if s.plog == nil {
		return nil
	}
	if err := s.node.cursors.Delete(cursorKey(s.name, name)); err != nil {
		return err
	}
	return s.node.deleteShared(subMetaKey(s.name, name))
}

// memCursorStore keeps cursors of non-persistent streams in memory.
type memCursorStore struct {
	mu sync.Mutex
	m  map[string]subscription.CursorState
}

func newMemCursorStore() *memCursorStore {
	return &memCursorStore{m: map[string]subscription.CursorState{}}
}

func (m *memCursorStore) Load(key string) (subscription.CursorState, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.m[key]
	return st, ok, nil
}

func (m *memCursorStore) Save(key string, st subscription.CursorState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[key] = st
	return nil
}

func (m *memCursorStore) Delete(key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
	return nil
}
