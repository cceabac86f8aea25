package kafka_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

// throttleHook counts the throttles a franz-go client is told about and
// the connections it loses.
type throttleHook struct {
	throttles   atomic.Int64
	maxMillis   atomic.Int64
	disconnects atomic.Int64
}

func (h *throttleHook) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	h.throttles.Add(1)
	if ms := d.Milliseconds(); ms > h.maxMillis.Load() {
		h.maxMillis.Store(ms)
	}
}

func (h *throttleHook) OnBrokerDisconnect(kgo.BrokerMetadata, net.Conn) { h.disconnects.Add(1) }

// saslClient is a franz-go client logged in with key (PLAIN).
func saslClient(t *testing.T, addr, key string, hook *throttleHook) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.WithHooks(hook),
		kgo.SASL(plain.Auth{User: "app", Pass: key}.AsMechanism()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// limitMetric reads one series of the node's limit counters.
func limitMetric(t *testing.T, srv *server.Server, root, name string) float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+root)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	series := name + `{listener="kafka",region="test"} `
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, series); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return f
		}
	}
	t.Fatalf("no series %s in /metrics (%d %s)", series, resp.StatusCode, b)
	return 0
}

// TestKafkaRequestRateThrottles: a key flooding the listener far over its
// request rate is served, told to back off (ThrottleMillis) and paced,
// and keeps working; a key sending requests at the same time is not
// throttled; the throttles are counted.
func TestKafkaRequestRateThrottles(t *testing.T) {
	srv, root := secureNode(t, func(c *broker.Config) {
		c.Auth.RequestsPerSecond, c.Auth.RequestBurst = 20, 10
	})
	flooder, _ := newKey(t, srv, nil, root, "_mm", "write:fabric/_system", "read:fabric/_system")
	quiet, _ := newKey(t, srv, nil, root, "_mm", "write:fabric/_system", "read:fabric/_system")
	addr := srv.KafkaAddr()
	ctx := testCtx(t)

	floodHook, quietHook := &throttleHook{}, &throttleHook{}
	flood := saslClient(t, addr, flooder, floodHook)
	calm := saslClient(t, addr, quiet, quietHook)

	// 60 Metadata requests from 4 goroutines: six times the burst, far
	// more than 20/s earns while they run unthrottled.
	const workers, perWorker = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				if _, err := flood.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Meanwhile the other key produces a few records.
	for i := 0; i < 3; i++ {
		if err := calm.ProduceSync(ctx, &kgo.Record{Topic: "calm", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatalf("the other key's produce: %v", err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a throttled request failed: %v", err)
	}
	if floodHook.throttles.Load() == 0 {
		t.Fatal("the flooding client was never told to back off")
	}
	// Throttled, the flooder still produces.
	if err := flood.ProduceSync(ctx, &kgo.Record{Topic: "flood", Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatalf("produce after the flood: %v", err)
	}
	if n := quietHook.throttles.Load(); n != 0 {
		t.Fatalf("the other key was throttled %d times", n)
	}
	got := limitMetric(t, srv, root, "causeway_limit_throttled_requests_total")
	if got < 1 {
		t.Fatalf("throttled requests counted: %v", got)
	}
	t.Logf("flooder told to back off %d times (at most %d ms); %v throttled requests counted",
		floodHook.throttles.Load(), floodHook.maxMillis.Load(), got)
}

// TestKafkaOversizedRequest: a request larger than maxKafkaRequestBytes
// closes its connection before anything of it is read, is counted, and
// leaves the other connections alone.
func TestKafkaOversizedRequest(t *testing.T) {
	const limit = 64 << 10
	srv, root := secureNode(t, func(c *broker.Config) { c.MaxKafkaRequestBytes = limit })
	key, _ := newKey(t, srv, nil, root, "_mm", "write:fabric/_system", "read:fabric/_system")
	addr := srv.KafkaAddr()
	ctx := testCtx(t)
	hook := &throttleHook{}
	cl := saslClient(t, addr, key, hook)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "big", Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	for _, size := range []uint32{limit + 1, 1 << 31} {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], size)
		if _, err := nc.Write(hdr[:]); err != nil {
			t.Fatal(err)
		}
		_ = nc.SetReadDeadline(time.Now().Add(testTimeout))
		if n, err := nc.Read(make([]byte, 1)); err == nil {
			t.Fatalf("a %d-byte request header was answered (%d bytes)", size, n)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("a %d-byte request header: the connection stayed open", size)
		}
		_ = nc.Close()
	}
	// 1<<31 is a negative int32 size: a bad size, not an oversized one.
	if got := limitMetric(t, srv, root, "causeway_limit_oversize_requests_total"); got != 1 {
		t.Fatalf("oversized requests counted: %v, want 1", got)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "big", Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatalf("another connection after the oversized request: %v", err)
	}
	if n := hook.disconnects.Load(); n != 0 {
		t.Fatalf("the well-behaved client lost %d connections", n)
	}
}
