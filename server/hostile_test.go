package server_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
)

// latencies measures a well-behaved client: rounds of one WebSocket publish
// (until its ack) and one HTTP stream lookup, paced at 40 rounds a second
// (within its key's request rate).
func latencies(t *testing.T, n *node, p *websocket.Conn, rounds int) (pub, get []time.Duration) {
	t.Helper()
	pace := time.NewTicker(25 * time.Millisecond)
	defer pace.Stop()
	for i := 0; i < rounds; i++ {
		<-pace.C
		start := time.Now()
		publish(t, p, fmt.Sprint("m", i))
		pub = append(pub, time.Since(start))
		start = time.Now()
		n.must("GET", sys+"streams/good", n.root, nil, http.StatusOK)
		get = append(get, time.Since(start))
	}
	return pub, get
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// TestHostileClients opens many idle and half-sent connections, slow and
// oversized WebSocket frames, handshakes for another tenant, and floods of
// requests with a valid key and with garbage credentials, while a
// well-behaved client keeps publishing and reading. The node stays up,
// every limit answers with its error and counts it, memory stays bounded,
// and the well-behaved client's latency under attack is reported next to
// the unloaded figure (a figure, not an assertion).
func TestHostileClients(t *testing.T) {
	if testing.Short() {
		t.Skip("opens hundreds of connections")
	}
	const (
		perIP       = 300
		idleConns   = 150
		slowConns   = 100
		slowWS      = 20
		oversized   = 30
		flooders    = 6
		rounds      = 100
		memBoundMiB = 512
	)
	n := startSecure(t, func(c *broker.Config) {
		c.Limits.MaxConnsPerIP = perIP
		c.Auth.RequestsPerSecond, c.Auth.RequestBurst = 50, 50
		c.MaxMessageBytes = 1 << 20
	})
	// The well-behaved client keeps one WebSocket and one keep-alive HTTP
	// connection; it is rate-limited like everyone, within its bucket.
	n.must("POST", sys+"streams/good", n.root, nil, http.StatusCreated)
	p := n.mustDial("/ws/v2/producer/persistent/_mm/_system/good", n.root, false)
	_, _ = latencies(t, n, p, 10) // warm up
	basePub, baseGet := latencies(t, n, p, rounds)

	admin := n.tenantAdmin("attacker")
	flood := n.key(admin, "attacker", "read:*", "write:*")
	prober := n.key(admin, "attacker", "read:*") // its own rate bucket
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapInuse

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var conns []net.Conn
	var connsMu sync.Mutex
	keep := func(c net.Conn) {
		connsMu.Lock()
		conns = append(conns, c)
		connsMu.Unlock()
	}
	addr := n.srv.Addr()
	// Idle connections, and connections that send half a request header
	// (slowloris).
	for i := 0; i < idleConns+slowConns; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		keep(c)
		if i >= idleConns {
			_, _ = io.WriteString(c, "GET /_fabric/_system/_api/streams HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		}
	}
	// Slow WebSocket frames: a frame header for 512 KiB, then a byte now
	// and then.
	for i := 0; i < slowWS; i++ {
		c := n.mustDial(fmt.Sprintf("/ws/v2/producer/persistent/attacker/_system/slow%d", i), flood, true)
		raw := c.UnderlyingConn()
		_, _ = raw.Write(frameHeader(512 << 10))
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := raw.Write([]byte{'x'}); err != nil {
						return
					}
				}
			}
		}()
	}
	// Oversized frames: each announces 1 GiB and is closed at its header.
	var tooLarge atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < oversized; i++ {
			c, _, _, err := n.dial("/ws/v2/producer/persistent/attacker/_system/big", flood, false)
			if err != nil {
				continue
			}
			_, _ = c.UnderlyingConn().Write(frameHeader(1 << 30))
			_ = c.SetReadDeadline(time.Now().Add(testTimeout))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					if websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
						tooLarge.Add(1)
					}
					break
				}
			}
			_ = c.Close()
		}
	}()
	// Floods: a valid key far over its rate, garbage credentials, and
	// handshakes for another tenant's streams, from another process (the
	// test binary again), as from the attackers' own machines: their
	// client-side work does not run on the node's Go scheduler.
	floods := startFlooders(t, floodSpec{
		URL: n.srv.URL(), Flooders: flooders, Flood: flood, Prober: prober,
		StreamsPath: sys + "streams", ForeignPath: "/ws/v2/consumer/persistent/_mm/_system/good/steal",
	})
	// Past the per-IP bound, connections are closed at accept.
	for i := 0; i < 60; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			keep(c)
		}
	}

	var peak atomic.Uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	loadPub, loadGet := latencies(t, n, p, rounds)
	counts := floods.stop()
	close(stop)
	wg.Wait()
	connsMu.Lock()
	for _, c := range conns {
		_ = c.Close()
	}
	connsMu.Unlock()

	// The node is up and every limit fired.
	n.must("GET", "/health", "", nil, http.StatusOK)
	publish(t, p, "after")
	metrics := string(n.must("GET", "/metrics", n.root, nil, http.StatusOK).body)
	t.Logf("limit metrics:\n%s", grepLines(metrics, "causeway_limit_connections_refused_total")+"\n"+grepLines(metrics, "causeway_auth_refused_total"))
	t.Logf("floods: %d rate-limited, %d unauthenticated, %d other-tenant answers", counts.Limited, counts.Unauth, counts.Foreign)
	if counts.Limited == 0 || counts.Unauth == 0 || counts.Foreign == 0 {
		t.Errorf("floods: %d rate-limited, %d unauthenticated, %d other-tenant answers", counts.Limited, counts.Unauth, counts.Foreign)
	}
	if tooLarge.Load() == 0 {
		t.Error("no oversized frame was closed with 1009")
	}
	if !containsMetric(metrics, `causeway_limit_connections_refused_total{limit="per_ip",region="test"}`) {
		t.Error("no connection was refused past the per-IP bound")
	}
	growth := int64(peak.Load()) - int64(heapBefore)
	t.Logf("heap in use: %d MiB before the attack, %d MiB at its peak", heapBefore>>20, peak.Load()>>20)
	if growth > memBoundMiB<<20 {
		t.Errorf("heap grew by %d MiB under attack, the bound is %d MiB", growth>>20, memBoundMiB)
	}
	t.Logf("well-behaved client, unloaded:     publish p50 %v p99 %v; HTTP get p50 %v p99 %v",
		pct(basePub, .5), pct(basePub, .99), pct(baseGet, .5), pct(baseGet, .99))
	t.Logf("well-behaved client, under attack: publish p50 %v p99 %v; HTTP get p50 %v p99 %v",
		pct(loadPub, .5), pct(loadPub, .99), pct(loadGet, .5), pct(loadGet, .99))
	t.Logf("ratio under attack / unloaded (p50): publish %.2fx, HTTP get %.2fx",
		float64(pct(loadPub, .5))/float64(pct(basePub, .5)), float64(pct(loadGet, .5))/float64(pct(baseGet, .5)))
}

// frameHeader is a masked, final text frame header announcing n bytes.
func frameHeader(n uint64) []byte {
	h := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(h[2:], n)
	return append(h, 1, 2, 3, 4) // masking key
}

func containsMetric(metrics, series string) bool {
	for _, l := range splitLines(metrics) {
		if len(l) > len(series) && l[:len(series)] == series && l[len(series)+1:] != "0" {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
