package wsproto

import (
	"errors"
	"fmt"
	"strings"

	"github.com/causeway/causeway/broker/naming"
)

// Kind is the role of a WebSocket connection.
type Kind int

// Connection roles.
const (
	Producer Kind = iota + 1
	Consumer
	Reader
)

func (k Kind) String() string {
	switch k {
	case Producer:
		return "producer"
	case Consumer:
		return "consumer"
	case Reader:
		return "reader"
	}
	return "unknown"
}

// ErrBadPath reports a WebSocket URL path that names no endpoint.
var ErrBadPath = errors.New("wsproto: invalid path")

// Endpoint is what a WebSocket URL path names.
type Endpoint struct {
	Kind    Kind
	Streams []naming.Stream // one, except for multi-stream consumers (/ws/v3/consumer)
	// Subscription is set for consumers.
	Subscription string
	// Global is set when a Macrometa-style path said c8global (true) or
	// c8local (false); nil when the path did not say.
	Global *bool
}

// ProducerPath, ConsumerPath and ReaderPath build the v2 paths.
func ProducerPath(s naming.Stream) string { return "/ws/v2/producer/" + streamPath(s) }

// ConsumerPath is the v2 consumer path for a subscription.
func ConsumerPath(s naming.Stream, subscription string) string {
	return "/ws/v2/consumer/" + streamPath(s) + "/" + subscription
}

// ReaderPath is the v2 reader path.
func ReaderPath(s naming.Stream) string { return "/ws/v2/reader/" + streamPath(s) }

// MultiConsumerPath is the v3 multi-stream consumer path; the streams go in
// the "topics" query parameter as full names.
func MultiConsumerPath(subscription string) string { return "/ws/v3/consumer/" + subscription }

func streamPath(s naming.Stream) string {
	return s.Domain() + "/" + s.Tenant + "/" + s.Fabric + "/" + s.Name
}

// ParsePath parses a request path. topics is the value of the "topics"
// query parameter, used only by /ws/v3/consumer/{subscription}.
// Accepted forms:
//
//	/ws/v2/{producer|reader}/{persistent|non-persistent}/{tenant}/{fabric}/{stream}
//	/ws/v2/consumer/{persistent|non-persistent}/{tenant}/{fabric}/{stream}/{subscription}
//	/ws/v3/consumer/{subscription}?topics=persistent://t/f/a,persistent://t/f/b
//	/_ws/ws/v2/... with the fabric written c8global.{fabric} or c8local.{fabric} (Macrometa alias)
func ParsePath(path, topics string) (Endpoint, error) {
	var ep Endpoint
	p := strings.TrimPrefix(path, "/_ws")
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(parts) < 3 || parts[0] != "ws" {
		return ep, fmt.Errorf("%w: %q", ErrBadPath, path)
	}
	switch parts[2] {
	case "producer":
		ep.Kind = Producer
	case "consumer":
		ep.Kind = Consumer
	case "reader":
		ep.Kind = Reader
	default:
		return ep, fmt.Errorf("%w: %q: unknown role %q (producer, consumer, reader)", ErrBadPath, path, parts[2])
	}
	switch parts[1] {
	case "v2":
	case "v3":
		return parseV3(path, parts, topics)
	default:
		return ep, fmt.Errorf("%w: %q: unknown version %q", ErrBadPath, path, parts[1])
	}
	want := 7
	if ep.Kind == Consumer {
		want = 8
	}
	if len(parts) != want {
		return ep, fmt.Errorf("%w: %q: want /ws/v2/%s/persistent/{tenant}/{fabric}/{stream}%s", ErrBadPath, path, ep.Kind,
			map[bool]string{true: "/{subscription}", false: ""}[ep.Kind == Consumer])
	}
	s := naming.Stream{Tenant: parts[4], Fabric: parts[5], Name: parts[6]}
	switch parts[3] {
	case "persistent":
		s.Persistent = true
	case "non-persistent":
	default:
		return ep, fmt.Errorf("%w: %q: domain must be persistent or non-persistent, got %q", ErrBadPath, path, parts[3])
	}
	if f, global, ok := macrometaFabric(s.Fabric); ok {
		s.Fabric = f
		ep.Global = &global
	}
	if err := s.Validate(); err != nil {
		return ep, err
	}
	ep.Streams = []naming.Stream{s}
	if ep.Kind == Consumer {
		ep.Subscription = parts[7]
		if err := naming.Validate("subscription", ep.Subscription); err != nil {
			return ep, err
		}
	}
	return ep, nil
}

// MaxStreamsPerConsumer bounds a multi-stream consumer.
const MaxStreamsPerConsumer = 64

func parseV3(path string, parts []string, topics string) (Endpoint, error) {
	ep := Endpoint{Kind: Consumer}
	if parts[2] != "consumer" || len(parts) != 4 {
		return ep, fmt.Errorf("%w: %q: want /ws/v3/consumer/{subscription}?topics=...", ErrBadPath, path)
	}
	ep.Subscription = parts[3]
	if err := naming.Validate("subscription", ep.Subscription); err != nil {
		return ep, err
	}
	if topics == "" {
		return ep, fmt.Errorf("%w: %q: the topics query parameter is required", ErrBadPath, path)
	}
	list := strings.Split(topics, ",")
	if len(list) > MaxStreamsPerConsumer {
		return ep, fmt.Errorf("%w: %d topics, the limit is %d", ErrBadPath, len(list), MaxStreamsPerConsumer)
	}
	seen := make(map[naming.Stream]bool, len(list))
	for _, t := range list {
		s, err := naming.ParseStream(strings.TrimSpace(t))
		if err != nil {
			return ep, err
		}
		if seen[s] {
			return ep, fmt.Errorf("%w: topic %s listed twice", ErrBadPath, s)
		}
		seen[s] = true
		ep.Streams = append(ep.Streams, s)
	}
	return ep, nil
}

// macrometaFabric accepts "c8global.{fabric}" and "c8local.{fabric}".
func macrometaFabric(f string) (fabric string, global, ok bool) {
	if rest, found := strings.CutPrefix(f, "c8global."); found {
		return rest, true, true
	}
	if rest, found := strings.CutPrefix(f, "c8local."); found {
		return rest, false, true
	}
	return f, false, false
}
