package e2e

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/shell"
	"github.com/causeway/causeway/replicator/transport"
)

// peerConn is the test acting as region b towards region a.
type peerConn struct {
	t     *testing.T
	conn  net.Conn
	codec *replicator.Codec
}

func dialPeer(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// expectClosed waits until the node closes c.
func expectClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("%s: connection not closed by the node: %v", what, err)
	}
}

func (p *peerConn) frame(msg []byte) {
	p.t.Helper()
	if _, err := p.conn.Write(transport.AppendFrame(nil, msg)); err != nil {
		p.t.Fatal(err)
	}
}

func (p *peerConn) batch(b replicator.Batch) []byte {
	p.t.Helper()
	msg, err := p.codec.AppendBatch(nil, b)
	if err != nil {
		p.t.Fatal(err)
	}
	return msg
}

// streamOp is a batch from b of one stream message op.
func streamOp(origin string, seq uint64, payload string, deps ...replicator.Entry) replicator.Batch {
	rec := segment.Record{PublishTime: time.Now().UnixMilli(), Payload: []byte(payload), Producer: "bp", SequenceID: int64(seq)}
	body := shell.AppendStreamMessage(nil, streamName("bad"), &rec)
	return replicator.Batch{From: "b", To: "a", Origin: origin, Ops: []replicator.Op{
		{Seq: seq, HLC: replicator.Timestamp{WallNanos: time.Now().UnixNano()}, Deps: deps, Body: body}}}
}

// TestBadPeerInputIsRejected plays a misbehaving region b against a node
// of region a: garbage, oversize and truncated frames, hellos with a wrong
// secret or from an unknown region, forged, truncated, misaddressed and
// replayed batches, dots from the future. Each is refused or ignored; only
// the valid ops are delivered, once; the node keeps working.
func TestBadPeerInputIsRejected(t *testing.T) {
	f := newFabric(t, []string{"a", "b"}, nil, "b")
	addr := f.Configs["a"].ReplAddr
	codec, err := replicator.NewCodec([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	wrong, _ := replicator.NewCodec([]byte("not-the-fabric-secret-at-all"))
	hello := func(c *replicator.Codec, from string) []byte {
		msg, err := c.AppendAck(nil, replicator.Ack{From: from, To: "a"})
		if err != nil {
			t.Fatal(err)
		}
		return transport.AppendFrame(nil, msg)
	}

	// Connections refused before any frame reaches the engine.
	for _, tc := range []struct {
		name  string
		bytes []byte
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"oversize frame", []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}},
		{"empty frame", []byte{0, 0, 0, 0}},
		{"hello with a wrong secret", hello(wrong, "b")},
		{"hello from an unknown region", hello(codec, "zz")},
		{"truncated hello", hello(codec, "b")[:20]},
	} {
		c := dialPeer(t, addr)
		if _, err := c.Write(tc.bytes); err != nil {
			t.Fatal(err)
		}
		if tc.name == "truncated hello" {
			_ = c.(*net.TCPConn).CloseWrite()
		}
		expectClosed(t, c, tc.name)
	}

	p := &peerConn{t: t, conn: dialPeer(t, addr), codec: codec}
	if _, err := p.conn.Write(hello(codec, "b")); err != nil {
		t.Fatal(err)
	}
	// a starts with nothing, so it joins: b's full ack (b holds no op of
	// a's) tells it it is new.
	fullAck, err := codec.AppendAck(nil, replicator.Ack{From: "b", To: "a", Full: true})
	if err != nil {
		t.Fatal(err)
	}
	p.frame(fullAck)
	f.waitStatus("a", func(st shell.Status) bool { return !st.Engine.Joining })
	good := p.batch(streamOp("b", 1, "b:1"))
	forged, _ := wrong.AppendBatch(nil, streamOp("b", 2, "forged"))
	misaddressed := streamOp("b", 2, "misaddressed")
	misaddressed.From = "zz"
	badFrames := [][]byte{
		[]byte("garbage inside a frame"),
		good[:len(good)-10],   // truncated
		forged,                // wrong secret
		p.batch(misaddressed), // another region on b's connection
		p.batch(streamOp("b", 1_000_000, "future")),                            // a dot from the future
		p.batch(streamOp("b", 2, "x", replicator.Entry{Region: "a", Seq: 99})), // depends on ops a never made
		p.batch(streamOp("zz", 1, "unknown origin")),
	}
	p.frame(good)
	for _, m := range badFrames {
		p.frame(m)
	}
	p.frame(good) // replayed
	p.frame(p.batch(streamOp("b", 2, "b:2")))
	recs := f.waitFor("a", "bad", func(recs []segment.Record) bool { return len(recs) >= 2 })
	if len(recs) != 2 || string(recs[0].Payload) != "b:1" || string(recs[1].Payload) != "b:2" {
		t.Fatalf("stream holds %d records: %q...", len(recs), recs[0].Payload)
	}
	st, err := f.Server("a").Repl.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Shell.Rejected != uint64(len(badFrames)) || st.Shell.DuplicateBatches != 1 {
		t.Fatalf("rejected %d (want %d), duplicate batches %d (want 1)", st.Shell.Rejected, len(badFrames), st.Shell.DuplicateBatches)
	}
	if st.Delivered["b"] != 2 || st.Delivered["a"] != 0 {
		t.Fatalf("delivered %v", st.Delivered)
	}
	// A frame cut short by a closed connection changes nothing either.
	c := dialPeer(t, addr)
	partial := transport.AppendFrame(hello(codec, "b"), p.batch(streamOp("b", 3, "cut")))
	if _, err := c.Write(partial[:len(partial)-5]); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	// The node still works.
	f.publish("a", "bad", "local", 0, 5)
	recs = f.waitFor("a", "bad", func(recs []segment.Record) bool { return len(recs) == 7 })
	for _, r := range recs {
		if string(r.Payload) == "cut" {
			t.Fatal("an op from a frame cut short was delivered")
		}
	}
}
