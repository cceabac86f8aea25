package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/replicator/shell"
)

// tailReader follows a stream from its first record through a WebSocket
// reader and records its test messages in the order read, which is offset
// order: what a Kafka consumer or a Pulsar reader would have seen at each
// offset.
type tailReader struct {
	mu   sync.Mutex
	seen []storedMsg
}

func (r *tailReader) follow(addr, stream string, stop <-chan struct{}) {
	followWS("ws://"+addr+"/ws/v2/reader/persistent/_mm/_system/"+stream+"?messageId=earliest&receiverQueueSize=1000", stop,
		func(producer string, n int) {
			r.mu.Lock()
			r.seen = append(r.seen, storedMsg{producer, n})
			r.mu.Unlock()
		})
}

func (r *tailReader) snapshot() []storedMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]storedMsg(nil), r.seen...)
}

// TestGeoKillKeepsReadOffsets checks, with real processes, what durable
// once per region promises (README "Geo replication (issue #15 item 5)"):
// a global stream is appended without fsync and re-derived from the
// journals after a crash, and a reader may have read records that were
// not yet synced, so after SIGKILL and a restart every offset must hold
// the record it held before. Two regions publish into one global stream;
// a reader in the victim follows the stream as it grows; the victim is
// killed under load, restarted, and once the regions converge its stream
// is read again from the start: the prefix the reader saw must come back
// unchanged, and every acknowledged message must be stored exactly once.
// At each kill the stream's files are read too (what any reader could have
// read), and every second kill also emulates a power cut: the stream is cut
// at a random offset past what the applied watermark covers (SIGKILL alone
// leaves the unsynced tail in the page cache).
// CAUSEWAY_GEO_OFFSET_KILLS sets the number of kill cycles (default 4).
func TestGeoKillKeepsReadOffsets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	kills := 4
	if v, err := strconv.Atoi(os.Getenv("CAUSEWAY_GEO_OFFSET_KILLS")); err == nil && v > 0 {
		kills = v
	}
	regions := []string{"east", "west"}
	nodes := startGeoFabric(t, bin, regions)
	const stream = "offsets"
	survivor, victim := nodes[0], nodes[1]
	rec := &acked{seq: map[string][]int{}, changed: make(chan struct{})}
	stopSurvivor := make(chan struct{})
	var producers sync.WaitGroup
	publishFrom := func(n *geoNode, name string, from int, stop <-chan struct{}) {
		producers.Add(1)
		go func() {
			defer producers.Done()
			geoProduce(n.addr, stream, name, from, rec, stop)
		}()
	}
	publishFrom(survivor, "east-p0", 0, stopSurvivor)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(kills+2)*geoTimeout)
	defer cancel()
	var readBefore [][]storedMsg // what the victim's reader saw in each life
	var heldBefore [][]storedMsg // what the victim's stream held at each kill
	next := 0                    // the victim's producer's next number
	for k := range kills {
		stopVictim := make(chan struct{})
		name := fmt.Sprintf("west-p%d", k)
		publishFrom(victim, name, next, stopVictim)
		reader := &tailReader{}
		stopReader := make(chan struct{})
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			reader.follow(victim.addr, stream, stopReader)
		}()
		// Each life runs for 1,500 more acknowledgements and a random
		// moment more, so the kill lands mid-write and past a few saves of
		// the applied watermark.
		rec.waitFor(ctx, rec.count()+1500)
		time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
		victim.kill()
		if b, err := os.ReadFile(filepath.Join(victim.data, "repl", "applied.json")); err == nil {
			t.Logf("kill %d: applied watermark %s", k+1, b)
		}
		close(stopVictim)
		close(stopReader)
		<-readerDone
		seen := reader.snapshot()
		onDisk, synced := streamOnDisk(t, victim.data, stream)
		if len(onDisk) == 0 {
			t.Fatalf("kill %d: the victim's stream is empty: nothing to check", k+1)
		}
		readBefore = append(readBefore, seen)
		heldBefore = append(heldBefore, onDisk)
		t.Logf("kill %d: the victim's stream held %d records (%d under the applied watermark), its reader had read %d; %d acknowledgements",
			k+1, len(onDisk), synced, len(seen), rec.count())
		if k%2 == 1 {
			// A power cut: what the watermark covers was synced, anything
			// after it may be lost. Half of the time all of it is: the
			// most a power cut can take, and the most re-derived.
			kept := synced
			if rng.IntN(2) == 0 {
				kept += rng.Uint64N(uint64(len(onDisk)) - synced + 1)
			}
			if err := segment.Truncate(vfs.OS(), streamDir(victim.data, stream), kept, segment.Options{}); err != nil {
				t.Fatalf("cut the stream: %v", err)
			}
			t.Logf("kill %d: a power cut emulated: the victim's stream cut to %d records", k+1, kept)
		}
		next += 1000000
		rec.waitFor(ctx, rec.count()+500) // the survivor goes on publishing while the victim is down
		victim.start(t, bin)
		if st, err := replStatus(victim.addr); err == nil {
			t.Logf("restart %d: %d ops re-applied from the journals", k+1, st.Shell.RestoredOps)
		}
	}
	publishFrom(victim, "west-last", next, stopSurvivor)
	rec.waitFor(ctx, rec.count()+1000)
	close(stopSurvivor)
	producers.Wait()
	if ctx.Err() != nil {
		t.Fatalf("producers got %d acknowledgements, not enough in time", rec.count())
	}
	total := waitConverged(t, nodes, stream)
	t.Logf("converged on %d messages (%d acknowledged)", total, rec.count())
	stored := readOrdered(t, victim.addr, stream)
	for life := range readBefore {
		for what, before := range map[string][]storedMsg{"its reader had read": readBefore[life], "it held": heldBefore[life]} {
			if len(before) > len(stored) {
				t.Fatalf("kill %d: %d records before (what %s), the restarted stream holds %d", life+1, len(before), what, len(stored))
			}
			for off, want := range before {
				if stored[off] != want {
					t.Fatalf("kill %d: offset %d held %s before the kill (what %s) and %s after it", life+1, off, want, what, stored[off])
				}
			}
		}
	}
	perProducer := map[string][]int{}
	for _, m := range stored {
		perProducer[m.producer] = append(perProducer[m.producer], m.n)
	}
	checkStream(t, victim.region, perProducer, rec)
	checkStream(t, survivor.region, readStream(t, survivor.addr, stream), rec)
}

// streamOnDisk reads a stopped node's global stream from its files and
// returns its test messages in offset order, and with it the
// number of records the applied watermark covers (synced before it was
// saved, with every record before them).
func streamOnDisk(t *testing.T, dataDir, stream string) (recs []storedMsg, synced uint64) {
	t.Helper()
	var st struct {
		Applied map[string]uint64 `json:"applied"`
	}
	switch b, err := os.ReadFile(filepath.Join(dataDir, "repl", "applied.json")); {
	case errors.Is(err, fs.ErrNotExist): // killed before its first save: nothing is covered
	case err != nil:
		t.Fatalf("read the applied watermark: %v", err)
	default:
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatalf("applied watermark %s: %v", b, err)
		}
	}
	journals := offlineJournals{dir: filepath.Join(dataDir, "repl"), logs: map[string]*segment.Log{}}
	defer journals.close(t)
	l, err := segment.Open(vfs.OS(), streamDir(dataDir, stream), segment.Options{ResolvePayloads: journals.resolve})
	if err != nil {
		t.Fatalf("open the stream's log: %v", err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Fatalf("close the stream's log: %v", err)
		}
	}()
	if l.StartOffset() != 0 {
		t.Fatalf("the stream starts at %d; retention must not run in this test", l.StartOffset())
	}
	for off, end := uint64(0), l.EndOffset(); off < end; {
		batch, err := l.Read(off, 4096, 8<<20)
		if err != nil || len(batch) == 0 {
			t.Fatalf("read the stream's log at %d: %d records, %v", off, len(batch), err)
		}
		for _, r := range batch {
			producer, n, ok := parseTestMessage(r.Payload)
			if !ok || r.Offset != uint64(len(recs)) {
				t.Fatalf("record %d (%d read): payload %q", r.Offset, len(recs), r.Payload)
			}
			recs = append(recs, storedMsg{producer, n})
			if r.OriginSeq <= st.Applied[r.Origin] {
				synced = r.Offset + 1
			}
		}
		off = batch[len(batch)-1].Offset + 1
	}
	return recs, synced
}

// offlineJournals resolves a stopped node's stream records stored by
// reference (written once: their payloads are in the origins' journals).
type offlineJournals struct {
	dir  string
	logs map[string]*segment.Log
}

func (j offlineJournals) resolve(recs []segment.Record) error {
	for i := range recs {
		r := &recs[i]
		if !r.PayloadRef {
			continue
		}
		l := j.logs[r.Origin]
		if l == nil {
			var err error
			if l, err = segment.Open(vfs.OS(), filepath.Join(j.dir, r.Origin), segment.Options{MaxRecordBytes: 32 << 20}); err != nil {
				return err
			}
			j.logs[r.Origin] = l
		}
		ops, err := l.Read(r.OriginSeq-1, 1, 1)
		if err != nil || len(ops) != 1 || ops[0].OriginSeq != r.OriginSeq {
			return fmt.Errorf("journal of %s at %d: %d records, %w", r.Origin, r.OriginSeq, len(ops), err)
		}
		_, m, err := shell.DecodeStreamMessage(ops[0].Payload)
		if err != nil {
			return err
		}
		r.Payload = m.Payload
	}
	return nil
}

func (j offlineJournals) close(t *testing.T) {
	for o, l := range j.logs {
		if err := l.Close(); err != nil {
			t.Errorf("close the journal of %s: %v", o, err)
		}
	}
}

func streamDir(dataDir, stream string) string {
	return filepath.Join(dataDir, "streams", "_mm", "_system", stream, "p0")
}
