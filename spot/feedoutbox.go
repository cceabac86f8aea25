package spot

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"go.uber.org/zap"
)

// The feed outbox: each entry's change events, kept in the replica's own
// state (same Pebble batch as the entry) for the last feedOutboxEntries
// entries. A node hands them to its feed again when its replica opens (a
// restart) or restores a snapshot, so that the events it applied but had
// not published - or had not even applied, having got a snapshot - are
// published, in order, when this node leads the feed's stream. Without it
// a node that restarts after applying entry i without publishing it (it
// lost the stream's lead while stopping) publishes only entries after i
// once it leads again, and i, kept by the other members, is dropped as a
// duplicate when one of them publishes it later (the broker de-duplicates
// by the highest sequence id: a gap filled late is refused).

// feedOutboxEntries is how many Raft entries back a replica keeps its
// change events (the seconds of a failover and a restart, many times
// over: the broker drops the copies the stream already holds).
const feedOutboxEntries = 10_000

// feedReplayEntries is how many entries' events go to the feed in one call
// when the outbox is handed over again.
const feedReplayEntries = 256

// outboxEvent is one change event as the outbox stores it: the Change's
// own JSON leaves its collection and index out.
type outboxEvent struct {
	Ref    Ref    `json:"ref"`
	Change Change `json:"change"`
}

func feedOutboxKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixFeedOutbox}, index)
}

// encodeOutbox encodes one entry's events, in order.
func encodeOutbox(changes []Change) ([]byte, error) {
	evs := make([]outboxEvent, len(changes))
	for i, c := range changes {
		evs[i] = outboxEvent{Ref: c.Collection, Change: c}
	}
	b, err := json.Marshal(evs)
	if err != nil {
		return nil, fmt.Errorf("spot: encode change events: %w", err)
	}
	return b, nil
}

// decodeOutbox decodes the events encodeOutbox stored for entry index.
func decodeOutbox(index uint64, b []byte) ([]Change, error) {
	var evs []outboxEvent
	if err := jsonUnmarshal(b, &evs); err != nil {
		return nil, fmt.Errorf("spot: change events of entry %d: %w", index, err)
	}
	out := make([]Change, len(evs))
	for i, e := range evs {
		out[i] = e.Change
		out[i].Collection, out[i].Index = e.Ref, index
	}
	return out, nil
}

// keepOutbox stores entry index's events in b and forgets those of the
// entry feedOutboxEntries before it (every replica does the same at the
// same entry, so a snapshot holds the same window).
func keepOutbox(b *pebble.Batch, index uint64, changes []Change) error {
	if len(changes) > 0 {
		v, err := encodeOutbox(changes)
		if err != nil {
			return err
		}
		if err := b.Set(feedOutboxKey(index), v, nil); err != nil {
			return fmt.Errorf("spot: batch: %w", err)
		}
	}
	if index > feedOutboxEntries {
		if err := b.Delete(feedOutboxKey(index-feedOutboxEntries), nil); err != nil {
			return fmt.Errorf("spot: batch: %w", err)
		}
	}
	return nil
}

// replayOutbox hands the events the outbox holds to the feed again, in
// entry order (the broker drops those its streams hold). An entry whose
// record does not decode is skipped, logged: the feed is not the state.
func (m *stateMachine) replayOutbox(db *pebble.DB) error {
	if m.onChanges == nil {
		return nil
	}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixFeedOutbox}, UpperBound: []byte{prefixFeedOutbox + 1}})
	if err != nil {
		return fmt.Errorf("spot: read change events: %w", err)
	}
	defer it.Close()
	var (
		batch   []Change
		entries int
	)
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 9 {
			continue
		}
		index := binary.BigEndian.Uint64(k[1:])
		changes, err := decodeOutbox(index, it.Value())
		if err != nil {
			m.log.Warn("change events not handed to the feed again", zap.Uint64("index", index), zap.Error(err))
			continue
		}
		batch = append(batch, changes...)
		if entries++; entries%feedReplayEntries == 0 {
			m.onChanges(batch)
			batch = nil
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("spot: read change events: %w", err)
	}
	if len(batch) > 0 {
		m.onChanges(batch)
	}
	return nil
}
