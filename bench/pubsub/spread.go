package pubsub

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// maxSpreadURLs bounds the nodes a run spreads its clients over.
const maxSpreadURLs = 64

// SpreadURLs turns a service URL listing a region's nodes
// ("http://a:8080,http://b:8080" or "http://a:8080,b:8080") into one
// service URL per node, the i-th listing every node starting at node i
// (a, b, c -> "a,b,c", "b,c,a", "c,a,b"): a client given the i-th starts
// on node i and fails over to the others in order. Elements without a
// scheme take the first element's, so every rotated list is complete.
// Pure.
func SpreadURLs(serviceURL string) ([]string, error) {
	parts := strings.Split(serviceURL, ",")
	if len(parts) > maxSpreadURLs {
		return nil, fmt.Errorf("%w: service URL lists %d nodes, at most %d", ErrInvalidConfig, len(parts), maxSpreadURLs)
	}
	scheme := ""
	seen := make(map[string]bool, len(parts))
	for i, p := range parts {
		p = strings.TrimSuffix(strings.TrimSpace(p), "/")
		if p == "" {
			return nil, fmt.Errorf("%w: service URL %q: element %d is empty", ErrInvalidConfig, serviceURL, i+1)
		}
		if s, _, ok := strings.Cut(p, "://"); ok {
			if i == 0 {
				scheme = s
			}
		} else if i == 0 {
			return nil, fmt.Errorf("%w: service URL %q: the first element needs a scheme (http:// or https://)", ErrInvalidConfig, serviceURL)
		} else {
			p = scheme + "://" + p
		}
		if seen[p] {
			return nil, fmt.Errorf("%w: service URL %q: %s is listed twice", ErrInvalidConfig, serviceURL, p)
		}
		seen[p] = true
		parts[i] = p
	}
	out := make([]string, len(parts))
	for i := range parts {
		out[i] = strings.Join(append(append([]string(nil), parts[i:]...), parts[:i]...), ",")
	}
	return out, nil
}

// spread is a Target made of one target per node: producer i and consumer
// i go through target i mod n, so a region's nodes share the clients.
type spread struct {
	ts []Target
}

// Spread returns a target whose producer i and consumer i are created
// through ts[i mod len(ts)] (each, typically, a client of the same region
// starting on a different node). Streams are prepared through every target
// (they must accept a stream that exists already) and cleaned up through
// the first. The name is the first target's.
func Spread(ts ...Target) (Target, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: spread over no target", ErrInvalidConfig)
	}
	if len(ts) == 1 {
		return ts[0], nil
	}
	return &spread{ts: ts}, nil
}

func (s *spread) Name() string { return s.ts[0].Name() }

func (s *spread) Prepare(ctx context.Context, p Plan) error {
	for i, t := range s.ts {
		if err := t.Prepare(ctx, p); err != nil {
			return fmt.Errorf("spread target %d: %w", i, err)
		}
	}
	return nil
}

func (s *spread) NewProducer(ctx context.Context, id int, stream string) (Producer, error) {
	return s.ts[id%len(s.ts)].NewProducer(ctx, id, stream)
}

func (s *spread) NewConsumer(ctx context.Context, c ConsumerSpec, deliver Deliver, fail func(error)) (Consumer, error) {
	return s.ts[c.ID%len(s.ts)].NewConsumer(ctx, c, deliver, fail)
}

func (s *spread) Cleanup(ctx context.Context, p Plan) error { return s.ts[0].Cleanup(ctx, p) }

func (s *spread) Close() error {
	var errs []error
	for _, t := range s.ts {
		if err := t.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
