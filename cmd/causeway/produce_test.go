package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker/wsproto"
)

// cliFake is a small WebSocket server for the client sub-commands: a
// producer endpoint that decodes frames with broker/wsproto and acks them
// (or fails the payloads listed in failPayloads), and a consumer endpoint
// that pushes the messages in push and records the commands it receives.
type cliFake struct {
	srv          *httptest.Server
	failPayloads map[string]bool
	push         []string

	mu        sync.Mutex
	urls      []string
	published []wsproto.DecodedPublish
	commands  []string
	gone      chan struct{} // closed when a consumer connection ends
}

func newCLIFake(t *testing.T) *cliFake {
	f := &cliFake{gone: make(chan struct{})}
	up := websocket.Upgrader{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep, err := wsproto.ParsePath(r.URL.Path, r.URL.Query().Get("topics"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		f.mu.Lock()
		f.urls = append(f.urls, r.URL.String())
		f.mu.Unlock()
		switch ep.Kind {
		case wsproto.Producer:
			f.serveProducer(t, ws)
		case wsproto.Consumer:
			defer close(f.gone)
			f.serveConsumer(t, ws)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *cliFake) serveProducer(t *testing.T, ws *websocket.Conn) {
	offset := uint64(0)
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var msgs []wsproto.DecodedPublish
		if wsproto.IsBatch(data) {
			ms, errs, err := wsproto.DecodeProducerBatch(data, 1<<20, 0)
			if err != nil {
				t.Errorf("server would reject %s: %v", data, err)
				return
			}
			for i, e := range errs {
				if e != nil {
					t.Errorf("server would reject element %d of %s: %v", i, data, e)
				}
			}
			msgs = ms
		} else {
			m, err := wsproto.DecodeProducerMessage(data, 1<<20)
			if err != nil {
				t.Errorf("server would reject %s: %v", data, err)
				return
			}
			msgs = []wsproto.DecodedPublish{m}
		}
		acks := make([]wsproto.ProducerAck, len(msgs))
		for i, m := range msgs {
			if f.failPayloads[string(m.Payload)] {
				acks[i] = wsproto.SendError(wsproto.ErrCodeUnknown, "disk on fire", m.Frame.Context)
				continue
			}
			acks[i] = wsproto.ProducerAck{Result: "ok", Context: m.Frame.Context,
				MessageID: wsproto.MessageID{Offset: offset, Partition: -1}.Encode()}
			offset++
			f.mu.Lock()
			f.published = append(f.published, m)
			f.mu.Unlock()
		}
		var reply any = acks
		if !wsproto.IsBatch(data) {
			reply = acks[0]
		}
		if err := ws.WriteJSON(reply); err != nil {
			return
		}
	}
}

func (f *cliFake) serveConsumer(t *testing.T, ws *websocket.Conn) {
	for i, p := range f.push {
		m := wsproto.ConsumerMessage{
			MessageID: wsproto.MessageID{Offset: uint64(i), Partition: -1}.Encode(),
			Payload:   b64(p), Key: "k", Properties: map[string]string{"i": p},
			PublishTime: wsproto.FormatTime(1700000000000),
		}
		if err := ws.WriteJSON(m); err != nil {
			return
		}
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if _, _, err := wsproto.DecodeConsumerCommand(data); err != nil {
			t.Errorf("server would reject %s: %v", data, err)
		}
		f.mu.Lock()
		f.commands = append(f.commands, string(data))
		f.mu.Unlock()
	}
}

func TestRunProducePublishesStdinLines(t *testing.T) {
	f := newCLIFake(t)
	var stdout, stderr strings.Builder
	code := runProduce([]string{"--url", f.srv.URL, "--stream", "orders", "--fabric", "fab", "--key", "K",
		"--property", "a=1", "--property", "b=x=y"}, strings.NewReader("one\ntwo\r\n\nthree"), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var got []string
	for _, m := range f.published {
		got = append(got, string(m.Payload))
		if m.Frame.Key != "K" || m.Frame.Properties["a"] != "1" || m.Frame.Properties["b"] != "x=y" {
			t.Errorf("message %+v", m.Frame)
		}
	}
	if strings.Join(got, "|") != "one|two||three" {
		t.Fatalf("published %q", got)
	}
	if !strings.HasPrefix(f.urls[0], "/ws/v2/producer/persistent/_mm/fab/orders?") {
		t.Fatalf("connected to %s", f.urls[0])
	}
	if !strings.Contains(stderr.String(), "4 sent, 4 acknowledged, 0 failed") {
		t.Fatalf("summary: %s", stderr.String())
	}
}

func TestRunProduceReportsFailures(t *testing.T) {
	f := newCLIFake(t)
	f.failPayloads = map[string]bool{"bad": true}
	var stdout, stderr strings.Builder
	code := runProduce([]string{"--url", f.srv.URL, "--stream", "s"}, strings.NewReader("good\nbad\ngood\n"), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "disk on fire") || !strings.Contains(stderr.String(), "3 sent, 2 acknowledged, 1 failed") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

func TestRunProduceUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--stream", "s", "extra"},
		{"--stream", "s", "--property", "novalue"},
		{"--stream", "s", "--url", "ftp://x"},
		{"--stream", "s", "--max-line-bytes", "0"},
	} {
		var stderr strings.Builder
		if code := runProduce(args, strings.NewReader(""), &strings.Builder{}, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2; stderr %s", args, code, stderr.String())
		}
	}
}

func TestRunProduceLineTooLong(t *testing.T) {
	f := newCLIFake(t)
	var stderr strings.Builder
	code := runProduce([]string{"--url", f.srv.URL, "--stream", "s", "--max-line-bytes", "8"},
		strings.NewReader("short\n"+strings.Repeat("x", 20)+"\n"), &strings.Builder{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "longer than --max-line-bytes=8") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

func TestRunProduceUnreachable(t *testing.T) {
	f := newCLIFake(t)
	url := f.srv.URL
	f.srv.Close()
	var stderr strings.Builder
	code := runProduce([]string{"--url", url, "--stream", "s", "--connect-timeout", time.Minute.String()},
		strings.NewReader("x\n"), &strings.Builder{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "dial") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(s) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}
