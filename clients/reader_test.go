package clients

import (
	"errors"
	"net/http"
	"testing"
)

func TestReaderStartPositions(t *testing.T) {
	encoded := mid(41).Encode()
	cases := []struct {
		start, want string
		queue       int
		wantQueue   string
	}{
		{"", "latest", 0, "1000"},
		{"earliest", "earliest", 5, "5"},
		{"latest", "latest", 0, "1000"},
		{encoded, encoded, 0, "1000"},
	}
	for _, c := range cases {
		f := newFakeServer(t)
		r, err := f.client(t).CreateReader(ctxT(t), ReaderOptions{Stream: "t/f/s", StartMessageID: c.start, ReceiverQueueSize: c.queue})
		if err != nil {
			t.Fatal(err)
		}
		conn := f.accept(t)
		q := conn.req.URL.Query()
		if conn.req.URL.Path != "/ws/v2/reader/persistent/t/f/s" || q.Get("messageId") != c.want || q.Get("receiverQueueSize") != c.wantQueue {
			t.Errorf("start %q: upgrade %s", c.start, conn.req.URL)
		}
		_ = r.Close()
	}
	f := newFakeServer(t)
	for _, o := range []ReaderOptions{
		{Stream: "s", StartMessageID: "yesterday"},
		{Stream: "s", ReceiverQueueSize: -1},
		{Stream: "a/b"},
	} {
		if _, err := f.client(t).CreateReader(ctxT(t), o); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: err %v, want ErrInvalidArgument", o, err)
		}
	}
	if n := f.upgrades.Load(); n != 0 {
		t.Fatalf("invalid options dialed %d times", n)
	}
}

func TestReaderAcksAndResumes(t *testing.T) {
	f := newFakeServer(t)
	r, err := f.client(t).CreateReader(ctxT(t), ReaderOptions{Stream: "s", StartMessageID: StartEarliest})
	if err != nil {
		t.Fatal(err)
	}
	conn := f.accept(t)
	raw1 := conn.push(t, mid(1), "a", 0)
	conn.push(t, mid(2), "b", 0)
	m, err := r.Next(ctxT(t))
	if err != nil || string(m.Payload) != "a" {
		t.Fatalf("Next = %v, %v", m, err)
	}
	if got := conn.command(t); got != `{"messageId":"`+raw1+`"}` {
		t.Fatalf("reader sent %s, want an ack of what it returned", got)
	}
	conn.drop() // b was received but never returned

	conn = f.accept(t)
	if got := conn.req.URL.Query().Get("messageId"); got != raw1 {
		t.Fatalf("resumed at %q, want after the last message returned (%q)", got, raw1)
	}
	conn.push(t, mid(1), "a", 0) // a server that starts inclusively
	raw2 := conn.push(t, mid(2), "b", 0)
	m, err = r.Next(ctxT(t))
	if err != nil || string(m.Payload) != "b" {
		t.Fatalf("Next = %v, %v; want b once", m, err)
	}
	if a, b := conn.command(t), conn.command(t); a != `{"messageId":"`+raw1+`"}` || b != `{"messageId":"`+raw2+`"}` {
		t.Fatalf("acks %s %s", a, b)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
}

func TestReaderRefused(t *testing.T) {
	f := newFakeServer(t)
	f.setRefuse(func(*http.Request) (int, string) { return http.StatusBadRequest, "messageId: invalid" })
	_, err := f.client(t).CreateReader(ctxT(t), ReaderOptions{Stream: "s"})
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("err %v", err)
	}
}
