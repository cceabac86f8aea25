package limits

import (
	"fmt"
	"net"
	"testing"
	"time"
)

func TestRates(t *testing.T) {
	r := NewRates(10, 3)
	now := time.Unix(1_700_000_000, 0)
	for i := 0; i < 3; i++ {
		if !r.Allow("a", now) {
			t.Fatalf("request %d of a burst of 3 refused", i)
		}
	}
	if r.Allow("a", now) {
		t.Fatal("4th request of a burst of 3 allowed")
	}
	if d := r.RetryAfter("a", now); d <= 0 || d > 100*time.Millisecond {
		t.Fatalf("RetryAfter = %v, want (0, 100ms]", d)
	}
	if !r.Allow("b", now) {
		t.Fatal("another key shares the bucket")
	}
	if !r.Allow("a", now.Add(100*time.Millisecond)) {
		t.Fatal("no token after 100ms at 10/s")
	}
	if r.Allow("a", now.Add(100*time.Millisecond)) {
		t.Fatal("two tokens after 100ms at 10/s")
	}
	unlimited := NewRates(-1, 0)
	for i := 0; i < 10000; i++ {
		if !unlimited.Allow("a", now) {
			t.Fatal("an unlimited bucket refused")
		}
	}
}

func TestRatesTake(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	const maxThrottle = time.Second
	r := NewRates(10, 2)
	// The burst is served without a throttle; then each request is
	// served with the wait that keeps the key at 10/s, growing with the
	// debt, up to maxThrottle.
	for i, want := range []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond} {
		if got := r.Take("a", now, maxThrottle); got != want {
			t.Fatalf("request %d: throttle %v, want %v", i, got, want)
		}
	}
	if r.Allow("a", now.Add(250*time.Millisecond)) {
		t.Fatal("Allow let a key in debt through")
	}
	if got := r.Take("b", now, maxThrottle); got != 0 {
		t.Fatalf("another key throttled %v", got)
	}
	// Waiting out the throttle pays the debt back.
	if got := r.Take("a", now.Add(400*time.Millisecond), maxThrottle); got != 0 {
		t.Fatalf("after the debt is paid: throttle %v", got)
	}
	// A debt worth more than maxThrottle is not taken.
	c := NewRates(1, 1)
	c.Take("a", now, maxThrottle)
	if got := c.Take("a", now, maxThrottle); got != maxThrottle {
		t.Fatalf("throttle %v, want the bound %v", got, maxThrottle)
	}
	if got := c.Take("a", now, maxThrottle); got != maxThrottle {
		t.Fatalf("throttle %v after a refused debt, want %v", got, maxThrottle)
	}
	if got := c.Take("a", now.Add(1500*time.Millisecond), maxThrottle); got != 500*time.Millisecond {
		t.Fatalf("throttle %v after 1.5s, want 500ms (a debt past the bound was taken)", got)
	}
	if got := NewRates(-1, 0).Take("a", now, maxThrottle); got != 0 {
		t.Fatalf("no limit throttled %v", got)
	}
}

func TestRatesStayBounded(t *testing.T) {
	r := NewRates(1, 1)
	now := time.Unix(1_700_000_000, 0)
	for i := 0; i < maxTrackedKeys+1000; i++ {
		r.Allow(fmt.Sprint(i), now)
	}
	if n := r.Len(); n > maxTrackedKeys {
		t.Fatalf("%d buckets kept, the bound is %d", n, maxTrackedKeys)
	}
}

func TestCounter(t *testing.T) {
	c := NewCounter(2)
	if !c.Acquire("a") || !c.Acquire("a") || c.Acquire("a") {
		t.Fatal("limit 2 not enforced")
	}
	if !c.Acquire("b") {
		t.Fatal("keys share a count")
	}
	c.Release("a")
	if !c.Acquire("a") {
		t.Fatal("a released unit was not given back")
	}
	c.Release("a")
	c.Release("a")
	c.Release("a") // below zero is ignored
	if c.Count("a") != 0 || len(c.n) != 1 {
		t.Fatalf("count %d, keys %d", c.Count("a"), len(c.n))
	}
	if u := NewCounter(-1); !u.Acquire("a") || !u.Acquire("a") {
		t.Fatal("no limit refused")
	}
}

func TestListenerPerIP(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &Metrics{}
	ln := NewListener(inner, 2, m)
	defer ln.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := dial(), dial()
	defer a.Close()
	defer b.Close()
	s1, s2 := <-accepted, <-accepted
	third := dial()
	defer third.Close()
	// The third connection is closed by the server: a read sees EOF.
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatal("the third connection from one address was served")
	}
	if m.ConnsRefused.Load() != 1 || ln.Open("127.0.0.1") != 2 {
		t.Fatalf("refused %d, open %d", m.ConnsRefused.Load(), ln.Open("127.0.0.1"))
	}
	_ = s1.Close()
	_ = s1.Close() // closing twice releases once
	fourth := dial()
	defer fourth.Close()
	s4 := <-accepted
	if ln.Open("127.0.0.1") != 2 {
		t.Fatalf("open %d after a close and a new connection", ln.Open("127.0.0.1"))
	}
	_ = s2.Close()
	_ = s4.Close()
}

func TestConfig(t *testing.T) {
	c := Config{}.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Config{
		{MaxConnsPerIP: -2, MaxHTTPBodyBytes: 1 << 20},
		{MaxConnsPerIP: 1, MaxHTTPBodyBytes: 10},
		{MaxConnsPerIP: 1, MaxHTTPBodyBytes: 1 << 20, MaxQueryTime: -1},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v passed", bad)
		}
	}
}

// BenchmarkRatesTake is the cost a Kafka request of a logged-in
// connection pays for its key's rate, one key or spread over many.
func BenchmarkRatesTake(b *testing.B) {
	now := time.Unix(1_700_000_000, 0)
	for _, keys := range []int{1, 1000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			r := NewRates(1e9, 1<<30)
			names := make([]string, keys)
			for i := range names {
				names[i] = fmt.Sprint("key:", i)
			}
			for i := 0; b.Loop(); i++ {
				r.Take(names[i%keys], now, time.Second)
			}
		})
	}
}
