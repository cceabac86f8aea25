package shell

import (
	"encoding/binary"
	"sync"
	"testing"
)

// recordingHandler records what a Mux hands it.
type recordingHandler struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (h *recordingHandler) Receive(_ string, msg []byte) {
	h.mu.Lock()
	h.msgs = append(h.msgs, msg)
	h.mu.Unlock()
}

func (h *recordingHandler) PeerState(string, bool) {}

// FuzzMuxReceive: any frame from a peer is handed whole to the node's
// shell, or, with a well-formed domain prefix of a domain running here
// with that peer, its rest to the domain's shell, or dropped; never a
// panic, never a frame to a domain the peer is not in.
func FuzzMuxReceive(f *testing.F) {
	prefix := func(key string) []byte {
		return append(binary.AppendUvarint([]byte{domainFrame}, uint64(len(key))), key...)
	}
	f.Add([]byte{1, 2, 3})
	f.Add(append(prefix("a,b"), 1, 2, 3))
	f.Add(append(prefix("a,c"), 9))
	f.Add([]byte{domainFrame})
	f.Add([]byte{domainFrame, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add(prefix("a,b"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		m := NewMux()
		base, ab, ac := &recordingHandler{}, &recordingHandler{}, &recordingHandler{}
		m.base = base
		m.domains["a,b"] = &muxDomain{m: m, key: "a,b", regions: []string{"a", "b"}, h: ab}
		m.domains["a,c"] = &muxDomain{m: m, key: "a,c", regions: []string{"a", "c"}, h: ac}
		m.Receive("b", frame)
		got := len(base.msgs) + len(ab.msgs) + len(ac.msgs)
		if got > 1 {
			t.Fatalf("one frame handed %d times", got)
		}
		if len(ac.msgs) != 0 {
			t.Fatalf("a frame from b reached domain a,c")
		}
		if len(base.msgs) == 1 && len(frame) > 0 && frame[0] == domainFrame {
			t.Fatalf("a domain frame reached the node's shell")
		}
		if len(ab.msgs) == 1 {
			want := frame[len(prefix("a,b")):]
			if string(ab.msgs[0]) != string(want) {
				t.Fatalf("domain a,b got %x, want %x", ab.msgs[0], want)
			}
		}
	})
}
