package clients

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
)

func TestParseBaseURL(t *testing.T) {
	cases := []struct {
		in, http, ws string
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "ws://127.0.0.1:8080"},
		{"http://h:1/", "http://h:1", "ws://h:1"},
		{"https://h/prefix/", "https://h/prefix", "wss://h/prefix"},
		{"ws://h:1", "http://h:1", "ws://h:1"},
		{"wss://h", "https://h", "wss://h"},
		{"ftp://h", "", ""},
		{"127.0.0.1:8080", "", ""},
		{"http://h?x=1", "", ""},
		{"http://u:p@h", "", ""},
		{"http://", "", ""},
		{"://", "", ""},
	}
	for _, c := range cases {
		h, w, err := parseBaseURL(c.in)
		if c.http == "" {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("%q: err %v, want ErrInvalidArgument", c.in, err)
			}
			continue
		}
		if err != nil || h.String() != c.http || w.String() != c.ws {
			t.Errorf("%q: got %v %v %v, want %s %s", c.in, h, w, err, c.http, c.ws)
		}
	}
}

func TestResolveStream(t *testing.T) {
	cases := []struct {
		in   string
		want string // "" = error
	}{
		{"orders", "persistent://_mm/_system/orders"},
		{"t/f/s", "persistent://t/f/s"},
		{"persistent://t/f/s", "persistent://t/f/s"},
		{"non-persistent://t/f/s", "non-persistent://t/f/s"},
		{"f/s", ""},
		{"", ""},
		{"a b", ""},
		{"t/../s", ""},
		{"kafka://t/f/s", ""},
	}
	for _, c := range cases {
		s, err := resolveStream(c.in, naming.DefaultTenant, naming.SystemFabric)
		if c.want == "" {
			if err == nil {
				t.Errorf("%q: resolved to %s, want error", c.in, s)
			}
			continue
		}
		if err != nil || s.String() != c.want {
			t.Errorf("%q: got %s %v, want %s", c.in, s, err, c.want)
		}
	}
}

// parsed splits a built URL and checks that the server's parser accepts its path.
func parsed(t *testing.T, raw string) (*url.URL, wsproto.Endpoint) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := wsproto.ParsePath(u.Path, u.Query().Get("topics"))
	if err != nil {
		t.Fatalf("server would reject %s: %v", raw, err)
	}
	return u, ep
}

func TestURLs(t *testing.T) {
	base, _ := url.Parse("ws://h:1/pre")
	s := naming.Stream{Persistent: true, Tenant: "t", Fabric: "f", Name: "s"}
	s2 := naming.Stream{Persistent: true, Tenant: "t", Fabric: "g", Name: "b"}

	u := producerURL(base, s, "p1", 41, false)
	if u != "ws://h:1/pre/ws/v2/producer/persistent/t/f/s?initialSequenceId=41&producerName=p1" {
		t.Errorf("producer URL %s", u)
	}
	if u := producerURL(base, s, "p1", 0, false); u != "ws://h:1/pre/ws/v2/producer/persistent/t/f/s?producerName=p1" {
		t.Errorf("producer URL %s", u)
	}

	o := ConsumerOptions{Subscription: "sub", Type: Failover, InitialPosition: Earliest, ReceiverQueueSize: 7, PullMode: true,
		ConsumerName: "c1", PriorityLevel: 2, AckTimeout: 1500 * time.Millisecond, NackDelay: time.Second, MaxRedeliverCount: 3}
	cu, ep := parsed(t, consumerURL(&url.URL{Scheme: "ws", Host: "h"}, []naming.Stream{s}, "persistent://t/f/dlq", o, false))
	want := url.Values{
		"subscriptionType": {"Failover"}, "subscriptionInitialPosition": {"Earliest"}, "receiverQueueSize": {"7"},
		"pullMode": {"true"}, "consumerName": {"c1"}, "priorityLevel": {"2"}, "ackTimeoutMillis": {"1500"},
		"negativeAckRedeliveryDelay": {"1000"}, "maxRedeliverCount": {"3"}, "deadLetterTopic": {"persistent://t/f/dlq"},
	}
	if cu.Query().Encode() != want.Encode() || ep.Kind != wsproto.Consumer || ep.Subscription != "sub" || ep.Streams[0] != s {
		t.Errorf("consumer URL %s: query %v endpoint %+v", cu, cu.Query(), ep)
	}

	o = ConsumerOptions{Subscription: "sub", Type: Shared, InitialPosition: Latest, ReceiverQueueSize: 1000}
	mu, ep := parsed(t, consumerURL(&url.URL{Scheme: "ws", Host: "h"}, []naming.Stream{s, s2}, "", o, false))
	if mu.Path != "/ws/v3/consumer/sub" || len(ep.Streams) != 2 || ep.Streams[1] != s2 ||
		mu.Query().Get("topics") != "persistent://t/f/s,persistent://t/g/b" || mu.Query().Has("deadLetterTopic") || mu.Query().Has("consumerName") {
		t.Errorf("multi-stream URL %s", mu)
	}

	id := wsproto.MessageID{Offset: 9, Partition: -1}.Encode()
	for _, start := range []string{"earliest", "latest", id} {
		ru, ep := parsed(t, readerURL(&url.URL{Scheme: "ws", Host: "h"}, s, start, 5, false))
		if ep.Kind != wsproto.Reader || ru.Query().Get("messageId") != start || ru.Query().Get("receiverQueueSize") != "5" {
			t.Errorf("reader URL %s", ru)
		}
	}

	// The binary protocol is one more query parameter, on every endpoint.
	base = &url.URL{Scheme: "ws", Host: "h"}
	for _, u := range []string{
		producerURL(base, s, "p1", 0, true),
		consumerURL(base, []naming.Stream{s}, "", o, true),
		consumerURL(base, []naming.Stream{s, s2}, "", o, true),
		readerURL(base, s, "earliest", 5, true),
	} {
		pu, _ := parsed(t, u)
		if pu.Query().Get(wsbin.ProtocolParam) != wsbin.Protocol {
			t.Errorf("binary URL %s", u)
		}
	}
	if pu, _ := parsed(t, readerURL(base, s, "earliest", 5, false)); pu.Query().Has(wsbin.ProtocolParam) {
		t.Errorf("JSON URL %s names a protocol", pu)
	}

	hb, _ := url.Parse("http://h:1")
	if got := streamAdminURL(hb, naming.Stream{Tenant: "_mm", Fabric: "f", Name: "s"}, true); got != "http://h:1/_fabric/f/_api/streams/s?global=true" {
		t.Errorf("admin URL %s", got)
	}
	if got := streamAdminURL(hb, s, false); got != "http://h:1/_tenant/t/_fabric/f/_api/streams/s?global=false" {
		t.Errorf("admin URL %s", got)
	}
}

func TestPlanConsumerRejects(t *testing.T) {
	c, err := New("http://h:1")
	if err != nil {
		t.Fatal(err)
	}
	many := make([]string, wsproto.MaxStreamsPerConsumer+1)
	for i := range many {
		many[i] = "s" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	cases := []ConsumerOptions{
		{Subscription: "sub"},
		{Streams: many, Subscription: "sub"},
		{Streams: []string{"s"}},
		{Streams: []string{"s"}, Subscription: "a/b"},
		{Streams: []string{"s", "_mm/_system/s"}, Subscription: "sub"},
		{Streams: []string{"s"}, Subscription: "sub", Type: "Sticky"},
		{Streams: []string{"s"}, Subscription: "sub", InitialPosition: "middle"},
		{Streams: []string{"s"}, Subscription: "sub", ReceiverQueueSize: -1},
		{Streams: []string{"s"}, Subscription: "sub", ReceiverQueueSize: maxReceiverQueueSize + 1},
		{Streams: []string{"s"}, Subscription: "sub", AckTimeout: -time.Second},
		{Streams: []string{"s"}, Subscription: "sub", DeadLetterStream: "x/y"},
		{Streams: []string{"s"}, Subscription: "sub", ConsumerName: "a b"},
	}
	for _, o := range cases {
		if _, err := c.planConsumer(o); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: err %v, want ErrInvalidArgument", o, err)
		}
	}
	p, err := c.planConsumer(ConsumerOptions{Streams: []string{"s"}, Subscription: "sub", Type: "shared", InitialPosition: "EARLIEST"})
	if err != nil || p.opts.Type != Shared || p.opts.InitialPosition != Earliest || p.opts.ReceiverQueueSize != defaultReceiverQueueSize {
		t.Errorf("defaults and case folding: %+v %v", p.opts, err)
	}
}

func TestNewRejects(t *testing.T) {
	cases := [][]Option{
		{WithTenant("a/b")},
		{WithFabric("")},
		{WithReconnectBackoff(0, time.Second)},
		{WithReconnectBackoff(time.Second, time.Millisecond)},
		{WithKeepalive(time.Second, time.Second)},
		{WithMaxFrameBytes(0)},
		{WithToken("a\r\nX-Evil: 1")},
	}
	for i, opts := range cases {
		if _, err := New("http://h:1", opts...); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("case %d: err %v, want ErrInvalidArgument", i, err)
		}
	}
}
