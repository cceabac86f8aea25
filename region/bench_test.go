package region_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lni/dragonboat/v4"
	"github.com/lni/dragonboat/v4/config"
	sm "github.com/lni/dragonboat/v4/statemachine"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/internal/dblog"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/region"
)

// The benchmarks behind the choice of log shipping over a Raft group per
// partition (README, Architecture: Regions of many nodes). Each writes
// 1 KiB records from 64 concurrent writers and counts a record done when it
// is acknowledged with the region's durability: fsynced on every replica
// of the in-sync set (log shipping) or committed by Raft (fsynced on a
// majority). All replicas share this machine's one disk and two cores.
//
//	go test -run '^$' -bench Replication -benchtime 20000x ./region/
const (
	benchRecordBytes = 1024
	benchWriters     = 64
)

// BenchmarkReplicationOneCopy is the baseline: one segment log, R = 1.
func BenchmarkReplicationOneCopy(b *testing.B) {
	l := openLog(b)
	runWriters(b, func(rec segment.Record) error {
		_, err := l.Append([]segment.Record{rec})
		return err
	})
}

// BenchmarkReplicationLogShipping: R = 3 by log shipping with the region
// core (region.Leader and region.Follower) over three segment logs with
// fsync always; followers fetch from the leader in process (no network:
// the Raft variant below pays loopback TCP, so this one is favoured by the
// cost of a socket round trip per fetch).
func BenchmarkReplicationLogShipping(b *testing.B) {
	logs := []*segment.Log{openLog(b), openLog(b), openLog(b)}
	members := []region.Member{{Node: 1, Incarnation: 1}, {Node: 2, Incarnation: 1}, {Node: 3, Incarnation: 1}}
	u := &region.Unit{ID: "bench", Factor: 3, Replicas: []region.NodeID{1, 2, 3}, Leader: 1, Epoch: 1, InSync: members}
	start := time.Now()
	var mu sync.Mutex // guards leader
	leader := region.NewLeader(region.LeaderConfig{MaxFetchEntries: 4096}, members[0], u, 0, 0)
	hwChanged := sync.NewCond(&mu)
	view := segView{l: logs[0]}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 1; i < 3; i++ {
		wg.Add(1)
		go func(f *segment.Log, self region.Member) {
			defer wg.Done()
			fl := &region.Follower{Unit: u.ID, Self: self, Leader: 1, Epoch: 1}
			epochs := region.Epochs{}.Assign(1, 0)
			for {
				select {
				case <-stop:
					return
				default:
				}
				changed := logs[0].Changed()
				req := fl.Request(f.EndOffset(), epochs)
				mu.Lock()
				resp := leader.Fetch(req, view, time.Since(start))
				hwChanged.Broadcast()
				mu.Unlock()
				st := fl.Handle(resp, f.EndOffset(), epochs)
				if len(st.Entries) == 0 {
					select {
					case <-changed:
					case <-stop:
						return
					}
					continue
				}
				recs := make([]segment.Record, len(st.Entries))
				for i, e := range st.Entries {
					recs[i] = segment.Record{Payload: e.Data, PublishTime: 1}
				}
				if _, err := f.Append(recs); err != nil {
					b.Error(err)
					return
				}
			}
		}(logs[i], members[i])
	}
	runWriters(b, func(rec segment.Record) error {
		first, err := logs[0].Append([]segment.Record{rec})
		if err != nil {
			return err
		}
		mu.Lock()
		leader.Appended(logs[0].EndOffset())
		for leader.HighWatermark() <= first {
			hwChanged.Wait()
		}
		mu.Unlock()
		return nil
	})
	close(stop)
	mu.Lock()
	hwChanged.Broadcast()
	mu.Unlock()
	wg.Wait()
}

// BenchmarkReplicationRaftPerPartition: R = 3 with the partition as a
// dragonboat group (three NodeHosts on loopback, Pebble log DB, fsync per
// commit); the state machine appends applied entries to a segment log
// without fsync (the Raft log is the durable copy).
func BenchmarkReplicationRaftPerPartition(b *testing.B) {
	dblog.Route(zap.NewNop())
	addrs := testnet.FreeAddrs(b, 3)
	members := map[uint64]dragonboat.Target{1: addrs[0], 2: addrs[1], 3: addrs[2]}
	var hosts []*dragonboat.NodeHost
	for i := range 3 {
		nh, err := dragonboat.NewNodeHost(config.NodeHostConfig{NodeHostDir: b.TempDir(), RTTMillisecond: 5, RaftAddress: addrs[i]})
		if err != nil {
			b.Fatal(err)
		}
		hosts = append(hosts, nh)
		l, err := segment.Open(vfs.OS(), b.TempDir(), segment.Options{Fsync: segment.FsyncNever})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.Close() })
		err = nh.StartReplica(members, false, func(uint64, uint64) sm.IStateMachine { return &logSM{l: l} },
			config.Config{ReplicaID: uint64(i + 1), ShardID: 1, ElectionRTT: 20, HeartbeatRTT: 2, CheckQuorum: true})
		if err != nil {
			b.Fatal(err)
		}
	}
	defer func() {
		for _, nh := range hosts {
			nh.Close()
		}
	}()
	// Wait for a leader and propose through it.
	var leader *dragonboat.NodeHost
	for leader == nil {
		for _, nh := range hosts {
			if id, _, ok, _ := nh.GetLeaderID(1); ok && nh.ID() != "" && id != 0 {
				leader = hosts[id-1]
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	session := leader.GetNoOPSession(1)
	propose := func(rec segment.Record) error {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := leader.SyncPropose(ctx, session, rec.Payload)
			cancel()
			if !errors.Is(err, dragonboat.ErrShardNotReady) && !errors.Is(err, dragonboat.ErrSystemBusy) {
				return err
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := propose(segment.Record{Payload: []byte("warm up")}); err != nil {
		b.Fatal(err)
	}
	runWriters(b, propose)
}

type logSM struct{ l *segment.Log }

func (s *logSM) Update(e sm.Entry) (sm.Result, error) {
	s.l.AppendAsync([]segment.Record{{Payload: e.Cmd, PublishTime: 1}}, func(uint64, error) {})
	return sm.Result{}, nil
}
func (s *logSM) Lookup(any) (any, error) { return nil, nil }
func (s *logSM) SaveSnapshot(io.Writer, sm.ISnapshotFileCollection, <-chan struct{}) error {
	return nil
}
func (s *logSM) RecoverFromSnapshot(io.Reader, []sm.SnapshotFile, <-chan struct{}) error { return nil }
func (s *logSM) Close() error                                                            { return nil }

// segView is a segment log as the leader's LogView (one epoch).
type segView struct{ l *segment.Log }

func (v segView) Start() uint64         { return v.l.StartOffset() }
func (v segView) End() uint64           { return v.l.EndOffset() }
func (v segView) Epochs() region.Epochs { return region.Epochs{}.Assign(1, 0) }
func (v segView) Read(offset uint64, max int) []region.Entry {
	recs, err := v.l.Read(offset, max, 4<<20)
	if err != nil {
		return nil
	}
	out := make([]region.Entry, len(recs))
	for i, r := range recs {
		out[i] = region.Entry{Offset: r.Offset, Epoch: 1, Data: r.Payload}
	}
	return out
}

func openLog(b *testing.B) *segment.Log {
	l, err := segment.Open(vfs.OS(), b.TempDir(), segment.Options{Fsync: segment.FsyncAlways})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

// runWriters writes b.N records from benchWriters goroutines and reports
// records per second and the process CPU per record.
func runWriters(b *testing.B, write func(segment.Record) error) {
	rec := segment.Record{Payload: make([]byte, benchRecordBytes), PublishTime: 1}
	b.SetBytes(benchRecordBytes)
	cpu0 := processCPU()
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := write(rec); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/record")
}
