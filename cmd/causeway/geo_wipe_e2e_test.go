package main

import (
	"encoding/base64"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/replicator/shell"
)

// TestGeoWipedRegionResend is issue 11's item 1 with real processes and a
// Pulsar WebSocket producer: client:0..999 are published to east,
// acknowledged and replicated; east is killed with SIGKILL, its data
// directory deleted, and it restarts while its peers cut it off (so it is
// still joining); the client reconnects under the same producer name and
// re-sends 990..999 with the same sequence ids. Once the links are back,
// the re-sends are answered with the original message ids and every
// region holds client:0..999 exactly once, with the same delivered vector.
func TestGeoWipedRegionResend(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	regions := []string{"east", "west", "south"}
	nodes := startGeoFabric(t, bin, regions)
	const stream = "wiped"
	east := nodes[0]

	acks := publishSeqs(t, east.addr, stream, "client", 0, 1000)
	for i, a := range acks.wait(t, 1000) {
		if !a.OK() {
			t.Fatalf("client:%d: %+v", i, a)
		}
	}
	close(acks.done)
	if total := waitConverged(t, nodes, stream); total != 1000 {
		t.Fatalf("fabric converged on %d messages, want 1000", total)
	}

	t.Log("converged on 1000 messages; wiping east")
	east.kill()
	if err := os.RemoveAll(east.data); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		cutLink(t, n.addr, east.region, "down")
	}
	east.start(t, bin)
	if st, err := replStatus(east.addr); err != nil || st.Joined {
		t.Fatalf("east after the wipe: joined %v (%v), want joining", st.Joined, err)
	}
	t.Log("east restarted, joining; re-sending 990..999")
	resent := publishSeqs(t, east.addr, stream, "client", 990, 10)
	for _, n := range nodes[1:] {
		cutLink(t, n.addr, east.region, "up")
	}
	for i, a := range resent.wait(t, 10) {
		id, err := wsproto.ParseMessageID(a.MessageID)
		if !a.OK() || err != nil || id.Offset != uint64(990+i) {
			t.Fatalf("re-sent client:%d answered %+v (%v), want ok with the original message id (offset %d)", 990+i, a, err, 990+i)
		}
	}
	close(resent.done)
	t.Log("re-sends answered as duplicates")
	if total := waitConverged(t, nodes, stream); total != 1000 {
		t.Fatalf("fabric converged on %d messages, want 1000", total)
	}
	for _, n := range nodes {
		got := readStream(t, n.addr, stream)["client"]
		if len(got) != 1000 {
			t.Fatalf("%s holds %d messages of client, want 1000", n.region, len(got))
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("%s: message %d of client is %d", n.region, i, v)
			}
		}
	}
}

// seqProducer is a WebSocket producer whose acks are collected in order.
type seqProducer struct {
	c    *websocket.Conn
	acks chan wsproto.ProducerAck
	done chan struct{}
}

// publishSeqs connects a producer named producer to stream and sends
// producer:from..from+n-1 with those sequence ids; its acks are read in the
// background (close done to close the connection).
func publishSeqs(t *testing.T, addr, stream, producer string, from, n int) *seqProducer {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws/v2/producer/persistent/_mm/_system/"+stream+"?producerName="+producer, nil)
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	p := &seqProducer{c: c, acks: make(chan wsproto.ProducerAck, n), done: make(chan struct{})}
	go func() {
		<-p.done
		_ = c.Close()
	}()
	go func() {
		for {
			var a wsproto.ProducerAck
			if err := c.ReadJSON(&a); err != nil {
				return
			}
			p.acks <- a
		}
	}()
	for i := from; i < from+n; i++ {
		payload := base64.StdEncoding.EncodeToString([]byte(producer + ":" + strconv.Itoa(i) + ":" + strings.Repeat("x", 100)))
		seq := int64(i)
		if err := c.WriteJSON(wsproto.ProducerMessage{Payload: payload, Context: strconv.Itoa(i), SequenceID: &seq}); err != nil {
			t.Fatalf("publish %s:%d: %v", producer, i, err)
		}
	}
	return p
}

// wait returns the first n acks, in order.
func (p *seqProducer) wait(t *testing.T, n int) []wsproto.ProducerAck {
	t.Helper()
	timeout := time.After(geoTimeout)
	out := make([]wsproto.ProducerAck, 0, n)
	for len(out) < n {
		select {
		case a := <-p.acks:
			out = append(out, a)
		case <-timeout:
			t.Fatalf("%d of %d acks after %s", len(out), n, geoTimeout)
		}
	}
	return out
}

// cutLink cuts or restores addr's replication link to peer.
func cutLink(t *testing.T, addr, peer, state string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+shell.AdminPath+"/links/"+peer+"/"+state, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("link %s on %s: %s", state, addr, resp.Status)
	}
}
