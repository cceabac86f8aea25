package e2e

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/replicator/shell"
)

// writtenOncePayload is message i's payload: 1 KiB, different for each i.
func writtenOncePayload(i int) []byte {
	p := bytes.Repeat([]byte{byte(i), byte(i >> 8), 0x5a}, 342)
	return p[:1024]
}

// dirBytes sums the sizes of the files under dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGlobalStreamWrittenOnce: a replicated message is written once per
// region. The global stream holds its records by reference to the origin's
// journal (its files hold a small part of the payload bytes), while every
// read - the node's reader, a subscription, after a restart too (from the
// journal, the tail cache empty) - returns the whole message. A second
// stream's messages are interleaved with the first's in the journal.
func TestGlobalStreamWrittenOnce(t *testing.T) {
	const n = 300
	f := newFabric(t, []string{"a", "b"}, nil)
	producers := []*broker.Producer{f.producer("a", "once", "p"), f.producer("a", "twice", "p")}
	for i := 0; i < n; i += 30 {
		for _, p := range producers {
			var msgs []broker.Message
			for j := i; j < i+30; j++ {
				msgs = append(msgs, broker.Message{Payload: writtenOncePayload(j), SequenceID: int64(j), Key: "k"})
			}
			for k, r := range p.Publish(msgs) {
				if r.Err != nil {
					t.Fatalf("publish %d: %v", i+k, r.Err)
				}
			}
		}
	}
	f.waitCount("once", n)
	f.waitCount("twice", n)
	check := func(when string, recs []segment.Record) {
		t.Helper()
		if len(recs) != n {
			t.Fatalf("%s: %d records, want %d", when, len(recs), n)
		}
		for i, r := range recs {
			if r.PayloadRef || !bytes.Equal(r.Payload, writtenOncePayload(int(r.SequenceID))) || r.Key != "k" || r.Origin != "a" {
				t.Fatalf("%s: record %d: ref %v, sequence %d, key %q, origin %q, payload of %d bytes not the one published",
					when, i, r.PayloadRef, r.SequenceID, r.Key, r.Origin, len(r.Payload))
			}
		}
	}
	for _, region := range []string{"a", "b"} {
		data := f.Configs[region].DataDir
		stream, journal := dirBytes(t, filepath.Join(data, "streams")), dirBytes(t, filepath.Join(data, "repl", "a"))
		if journal < 2*n*1024 || stream > 2*n*1024/4 {
			t.Errorf("%s: the stream's files hold %d bytes and a's journal %d for %d messages of 1 KiB: want the payloads in the journal alone",
				region, stream, journal, n)
		}
		check(region+" read", f.records(region, "once"))
		check(region+" subscription", f.consumeAll(region, "once", "sub", n))
	}
	check("a, the second stream", f.records("a", "twice"))
	f.Stop("b")
	f.Start("b")
	check("b after a restart", f.records("b", "once"))
	check("b after a restart, the second stream", f.records("b", "twice"))

	// A reference is checked against the journal, from the tail cache (a)
	// or from the journal (b, restarted): a dot that holds a message of
	// another stream does not resolve.
	for _, region := range []string{"a", "b"} {
		ref := []segment.Record{{Origin: "a", OriginSeq: 2, PayloadRef: true}}
		if err := f.Server(region).Repl.ResolvePayloads(streamName("another"), ref); !errors.Is(err, shell.ErrJournal) {
			t.Fatalf("%s: a reference to another stream's message resolved: %v", region, err)
		}
	}
}
