package clients

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestParseServiceURL(t *testing.T) {
	cases := []struct {
		in   string
		want string // the HTTP base URLs joined by spaces; "" when refused
	}{
		{"http://a:1", "http://a:1"},
		{"http://a:1,http://b:2,http://c:3", "http://a:1 http://b:2 http://c:3"},
		{"http://a:1, http://b:2 ,http://c:3", "http://a:1 http://b:2 http://c:3"},
		{"http://a:1,b:2,c:3", "http://a:1 http://b:2 http://c:3"}, // Pulsar's form: the scheme once
		{"wss://a,b:9/pre/", "https://a https://b:9/pre"},          // the later element keeps its own prefix
		{"ws://a:1,https://b:2", "http://a:1 https://b:2"},         // mixed schemes, each as written
		{"http://a:1/x,http://a:1/y", "http://a:1/x http://a:1/y"}, // same host, different prefixes
		{"http://a:1,", ""},               // empty element
		{",http://a:1", ""},               // empty element
		{"http://a:1,,http://b:2", ""},    // empty element
		{"http://a:1,http://a:1/", ""},    // listed twice
		{"http://a:1,a:1", ""},            // listed twice
		{"a:1,http://b:2", ""},            // the first needs a scheme
		{"http://a:1,ftp://b:2", ""},      // bad scheme
		{"http://a:1,http://b:2?x=1", ""}, // query
		{"", ""},                          // nothing
		{strings.Repeat("http://a:1,", maxServiceURLs) + "http://b", ""}, // too many
	}
	for _, c := range cases {
		bases, err := parseServiceURL(c.in)
		if c.want == "" {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("%q: %v, %v, want ErrInvalidArgument", c.in, bases, err)
			}
			continue
		}
		var got []string
		for _, b := range bases {
			got = append(got, b.http.String())
			if b.ws.Host != b.http.Host || b.ws.Path != b.http.Path || !strings.HasPrefix(b.ws.Scheme, "ws") {
				t.Errorf("%q: WebSocket form %s of %s", c.in, b.ws, b.http)
			}
		}
		if err != nil || strings.Join(got, " ") != c.want {
			t.Errorf("%q: got %v, %v; want %s", c.in, got, err, c.want)
		}
	}
	var many []string
	for i := range maxServiceURLs {
		many = append(many, fmt.Sprintf("http://h%d:1", i))
	}
	if bases, err := parseServiceURL(strings.Join(many, ",")); err != nil || len(bases) != maxServiceURLs {
		t.Errorf("%d base URLs: %d, %v", maxServiceURLs, len(bases), err)
	}
}

func TestServiceURLs(t *testing.T) {
	got, err := ServiceURLs("ws://a:1/,b:2/pre/")
	if err != nil || strings.Join(got, " ") != "http://a:1 http://b:2/pre" {
		t.Fatalf("%v, %v", got, err)
	}
	if _, err := ServiceURLs("http://a,,http://b"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty element: %v", err)
	}
}

func TestRotation(t *testing.T) {
	cases := []struct {
		n, start int
		want     string // current, then after each of four advances
	}{
		{1, 0, "0 0 0 0 0"},
		{3, 0, "0 1 2 0 1"},
		{3, 2, "2 0 1 2 0"},
		{3, 5, "0 1 2 0 1"},  // out of range: the first
		{3, -1, "0 1 2 0 1"}, // out of range: the first
		{2, 1, "1 0 1 0 1"},
		{0, 0, "0 0 0 0 0"}, // no base URLs cannot happen; it stays on 0
	}
	for _, c := range cases {
		r := newRotation(c.n, c.start)
		got := []string{fmt.Sprint(r.current())}
		for range 4 {
			at := r.advance()
			if at != r.current() {
				t.Errorf("n=%d start=%d: advance returned %d, current is %d", c.n, c.start, at, r.current())
			}
			got = append(got, fmt.Sprint(at))
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("n=%d start=%d: %s, want %s", c.n, c.start, s, c.want)
		}
	}
}

// serviceClient returns a client of the servers' base URLs, in order,
// with fast reconnects. A nil server stands for a node that is down (a
// closed listener: connections are refused).
func serviceClient(t *testing.T, fs ...*fakeServer) *Client {
	t.Helper()
	var urls []string
	for _, f := range fs {
		if f == nil {
			dead := httptest.NewServer(http.NotFoundHandler())
			dead.Close()
			urls = append(urls, dead.URL)
			continue
		}
		urls = append(urls, f.srv.URL)
	}
	c, err := New(strings.Join(urls, ","), WithReconnectBackoff(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestProducerFailsOverRoundRobin: a producer whose connection is lost,
// closed by the server (1012, its stream's leader moved) or refused with
// 503 reconnects to the next base URL, round robin, under the same name,
// and resends what was not acknowledged with the same sequence ids.
func TestProducerFailsOverRoundRobin(t *testing.T) {
	a, b, c := newFakeServer(t), newFakeServer(t), newFakeServer(t)
	cl := serviceClient(t, a, b, c)
	p, err := cl.CreateProducer(ctxT(t), ProducerOptions{Stream: "s", Name: "p1", BatchMaxMessages: 1})
	if err != nil {
		t.Fatal(err)
	}
	conn := a.accept(t)
	var cb callbacks
	for _, n := range []string{"m1", "m2", "m3"} {
		p.SendAsync(ProducerMessage{Payload: []byte(n)}, cb.done(n))
	}
	next := uint64(10)
	conn.ackAll(t, conn.next(t), &next) // m1
	seqs := map[string]int64{}
	for range 2 {
		m := publishes(t, conn.next(t))[0]
		seqs[string(m.Payload)] = *m.Frame.SequenceID
	}
	conn.drop() // node a dies

	// b is next; it closes with 1012 before acking anything.
	conn = b.accept(t)
	if q := conn.req.URL.Query(); q.Get("producerName") != "p1" || q.Get("initialSequenceId") != "1" {
		t.Fatalf("reconnect to b: %s", conn.req.URL)
	}
	for range 2 {
		m := publishes(t, conn.next(t))[0]
		if seqs[string(m.Payload)] != *m.Frame.SequenceID {
			t.Fatalf("%s resent to b with sequence id %d, first sent with %d", m.Payload, *m.Frame.SequenceID, seqs[string(m.Payload)])
		}
	}
	conn.closeWith(t, websocket.CloseServiceRestart, "the stream's leader moved to another node; reconnect")

	// c refuses with 503 (no leader yet): the next attempt wraps round to a.
	c.setRefuse(func(*http.Request) (int, string) { return http.StatusServiceUnavailable, "no leader" })
	conn = a.accept(t)
	if q := conn.req.URL.Query(); q.Get("producerName") != "p1" {
		t.Fatalf("reconnect to a: %s", conn.req.URL)
	}
	var resent []string
	for len(resent) < 2 {
		for _, m := range conn.ackAll(t, conn.next(t), &next) {
			if seqs[string(m.Payload)] != *m.Frame.SequenceID {
				t.Fatalf("%s resent to a with sequence id %d, first sent with %d", m.Payload, *m.Frame.SequenceID, seqs[string(m.Payload)])
			}
			resent = append(resent, string(m.Payload))
		}
	}
	if err := p.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(resent) != "[m2 m3]" || cb.String() != "m1@10 m2@11 m3@12" {
		t.Fatalf("resent %v, callbacks %s", resent, cb.String())
	}
	if n := c.upgrades.Load(); n != 1 {
		t.Fatalf("c was asked %d times, want 1", n)
	}
}

// TestFirstConnectionTriesEveryNode: a producer, consumer or reader
// created while the first nodes are down or answer 503 connects to the
// next one that accepts, and later ones start there; a refusal every node
// would repeat (404) is returned at once; when no node connects, the
// error names them all.
func TestFirstConnectionTriesEveryNode(t *testing.T) {
	busy, live := newFakeServer(t), newFakeServer(t)
	busy.setRefuse(func(*http.Request) (int, string) { return http.StatusServiceUnavailable, "no quorum" })
	cl := serviceClient(t, nil, busy, live)
	p, err := cl.CreateProducer(ctxT(t), ProducerOptions{Stream: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	live.accept(t)
	if _, err := cl.Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"}); err != nil {
		t.Fatal(err)
	}
	live.accept(t)
	if _, err := cl.CreateReader(ctxT(t), ReaderOptions{Stream: "s"}); err != nil {
		t.Fatal(err)
	}
	live.accept(t)
	if n := busy.upgrades.Load(); n != 1 {
		t.Fatalf("the 503 node was asked %d times, want once (later connections start on the live node)", n)
	}

	gone, other := newFakeServer(t), newFakeServer(t)
	gone.setRefuse(func(*http.Request) (int, string) { return http.StatusNotFound, "no such stream" })
	_, err = serviceClient(t, gone, other).CreateProducer(ctxT(t), ProducerOptions{Stream: "s"})
	if !errors.Is(err, ErrNotFound) || other.upgrades.Load() != 0 {
		t.Fatalf("404 on the first node: %v, the second asked %d times", err, other.upgrades.Load())
	}

	// Nothing to reach: no retry.
	_, err = serviceClient(t, nil, nil).CreateProducer(ctxT(t), ProducerOptions{Stream: "s"})
	if err == nil || !strings.Contains(err.Error(), "none of the 2 base URLs connected") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("no node reachable: %v", err)
	}

	// A node asks to try again: passes go on until ctx ends, and the
	// error says what each node answered.
	before := busy.upgrades.Load()
	ctx, cancel := context.WithTimeout(ctxT(t), time.Second)
	defer cancel()
	_, err = serviceClient(t, nil, busy).Subscribe(ctx, ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"})
	// The error is the last pass's: the 503, or a dial that the deadline
	// cut (a loaded machine); the retries are counted below.
	var re *RefusedError
	refused503 := (errors.As(err, &re) && re.Status == http.StatusServiceUnavailable) || (err != nil && strings.Contains(err.Error(), "503"))
	cutInDial := err != nil && strings.Contains(err.Error(), "dial")
	switch {
	case err == nil, !refused503 && !cutInDial:
		t.Fatalf("503 until ctx ends: %v", err)
	case refused503 && (!errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "none of the 2 base URLs connected")):
		t.Fatalf("503 until ctx ends: %v", err)
	}
	if n := busy.upgrades.Load() - before; n < 2 {
		t.Fatalf("the 503 node was asked %d times, want retries", n)
	}
}

// TestFirstConnectionRetriesTryAgain: a stream just created has no
// leader for a moment (every node answers 503); the first connection
// tries again until one accepts.
func TestFirstConnectionRetriesTryAgain(t *testing.T) {
	a, b := newFakeServer(t), newFakeServer(t)
	var refusals atomic.Int32
	refuse := func(*http.Request) (int, string) {
		if refusals.Add(1) <= 5 {
			return http.StatusServiceUnavailable, "the stream has no leader now; try again"
		}
		return 0, ""
	}
	a.setRefuse(refuse)
	b.setRefuse(refuse)
	p, err := serviceClient(t, a, b).CreateProducer(ctxT(t), ProducerOptions{Stream: "s", Name: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if n := refusals.Load(); n != 6 || a.upgrades.Load() != 3 || b.upgrades.Load() != 3 {
		t.Fatalf("%d upgrades (%d on a, %d on b), want 6, alternating", n, a.upgrades.Load(), b.upgrades.Load())
	}
	// The sixth request, the second node's third, was accepted.
	b.accept(t)
}

// TestConsumerResubscribesOnNextNode: a consumer whose node dies
// subscribes again, with the same parameters, on the next node.
func TestConsumerResubscribesOnNextNode(t *testing.T) {
	a, b := newFakeServer(t), newFakeServer(t)
	cons, err := serviceClient(t, a, b).Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub", Type: Shared})
	if err != nil {
		t.Fatal(err)
	}
	conn := a.accept(t)
	first := conn.req.URL.RequestURI()
	conn.push(t, mid(1), "x", 0)
	if m := receive(t, cons); string(m.Payload) != "x" {
		t.Fatalf("got %s", m.Payload)
	}
	conn.drop()
	conn = b.accept(t)
	if got := conn.req.URL.RequestURI(); got != first {
		t.Fatalf("resubscribed with %s, first with %s", got, first)
	}
	conn.push(t, mid(2), "y", 0)
	if m := receive(t, cons); string(m.Payload) != "y" {
		t.Fatalf("got %s", m.Payload)
	}
}

// TestCreateStreamTriesNextNode: the admin request goes to the next node
// when one is down or answers 5xx, and stops at a refusal (409).
func TestCreateStreamTriesNextNode(t *testing.T) {
	var asked atomic.Int32
	srv := func(status int) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked.Add(1)
			w.WriteHeader(status)
		}))
		t.Cleanup(s.Close)
		return s
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	unavailable, ok, conflict := srv(http.StatusServiceUnavailable), srv(http.StatusOK), srv(http.StatusConflict)
	c, err := New(strings.Join([]string{dead.URL, unavailable.URL, ok.URL}, ","))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateStream(ctxT(t), "s", false); err != nil || asked.Load() != 2 {
		t.Fatalf("create: %v after %d answers", err, asked.Load())
	}
	asked.Store(0)
	c, err = New(strings.Join([]string{conflict.URL, ok.URL}, ","))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateStream(ctxT(t), "s", false); !errors.Is(err, ErrRefused) || asked.Load() != 1 {
		t.Fatalf("409 on the first node: %v after %d answers", err, asked.Load())
	}
}
