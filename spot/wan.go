package spot

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// wanTransport delays each forwarded request and its answer by a one-way
// latency plus a uniform jitter: a dev fabric's emulated WAN applied to
// SPOT forwarding.
type wanTransport struct {
	base            http.RoundTripper
	latency, jitter time.Duration
}

// WANTransport wraps base with an emulated WAN (latency and jitter each
// way). With zero latency and jitter it returns base.
func WANTransport(base http.RoundTripper, latency, jitter time.Duration) http.RoundTripper {
	if latency <= 0 && jitter <= 0 {
		return base
	}
	return &wanTransport{base: base, latency: latency, jitter: jitter}
}

func (t *wanTransport) delay() time.Duration {
	d := t.latency
	if t.jitter > 0 {
		d += rand.N(t.jitter)
	}
	return d
}

func (t *wanTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := sleepCtx(r, t.delay()); err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if err := sleepCtx(r, t.delay()); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// sleepCtx waits d, the emulated propagation delay, or until r is
// canceled.
func sleepCtx(r *http.Request, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return r.Context().Err()
	case <-t.C:
		return nil
	}
}
