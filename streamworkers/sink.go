package streamworkers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/streamworkers/engine"
)

// maxRowsPerWrite bounds one upsert request of rows into a collection.
const maxRowsPerWrite = 1000

// sink sends a worker's committed rows where they go. Not safe for
// concurrent use: its worker's goroutine owns it.
type sink struct {
	node     *broker.Node
	cols     *service.Service
	id       workerID
	producer string // the worker's producer name on every stream it writes
	log      *zap.Logger
	// producers are attached on first use, by stream name.
	producers map[string]*broker.Producer
}

// producerName names a worker's producers: per region (every region runs
// the worker and writes global streams under its own name) and per
// creation (a worker created again under the same name starts its
// sequence ids at 1 again).
func producerName(region string, def Definition) string {
	return "sw-" + region + "-" + def.Name + "-" + strconv.FormatInt(def.CreatedAt, 36)
}

// send sends rows in order and returns how many were sent (a prefix). A
// row that can never be written (refused by the collection) counts as
// sent, and is logged and counted in errs; a failure that may pass (the
// stream's node, the disk) stops the send with err: the caller retries
// from the first row not sent.
func (s *sink) send(rows []pendingRow) (n int, errs int, err error) {
	for n < len(rows) {
		j := n + 1
		for j < len(rows) && j-n < maxRowsPerWrite && rows[j].To == rows[n].To && rows[j].Target == rows[n].Target {
			j++
		}
		var bad int
		if rows[n].To == toCollection {
			bad, err = s.upsert(rows[n].Target, rows[n:j])
		} else {
			err = s.publish(rows[n].To, rows[n].Target, rows[n:j])
		}
		if err != nil {
			return n, errs, err
		}
		errs += bad
		n = j
	}
	return n, errs, nil
}

func (s *sink) publish(to, target string, rows []pendingRow) error {
	p, err := s.producerFor(to, target)
	if err != nil {
		return err
	}
	msgs := make([]broker.Message, len(rows))
	for i, r := range rows {
		msgs[i] = broker.Message{Key: r.Key, Payload: r.Value, SequenceID: r.Seq}
	}
	for i, res := range p.Publish(msgs) {
		if res.Err != nil {
			// The stream's lead moved, it was deleted, the disk is full:
			// attach again next time.
			p.Close()
			delete(s.producers, target)
			return fmt.Errorf("streamworkers: %s: publishing row %d to %s: %w", s.id, rows[i].Seq, target, res.Err)
		}
	}
	return nil
}

// publishAsync hands rows to their stream's producer; done gets the
// outcome once they are stored (on the storage's goroutine).
func (s *sink) publishAsync(to, target string, rows []pendingRow, done func(error)) {
	p, err := s.producerFor(to, target)
	if err != nil {
		done(err)
		return
	}
	msgs := make([]broker.Message, len(rows))
	for i, r := range rows {
		msgs[i] = broker.Message{Key: r.Key, Payload: r.Value, SequenceID: r.Seq}
	}
	id := s.id
	p.PublishAsync(msgs, func(res []broker.PublishResult) {
		for i, r := range res {
			if r.Err != nil {
				done(fmt.Errorf("streamworkers: %s: publishing row %d to %s: %w", id, rows[i].Seq, target, r.Err))
				return
			}
		}
		done(nil)
	})
}

func (s *sink) producerFor(to, target string) (*broker.Producer, error) {
	if p, ok := s.producers[target]; ok {
		return p, nil
	}
	var global *bool
	if to == toErrors {
		local := false // a region's errors stay in the region
		global = &local
	}
	st, err := s.node.StreamForUse(naming.Stream{Persistent: true, Tenant: s.id.Tenant, Fabric: s.id.Fabric, Name: target}, global)
	if err != nil {
		return nil, fmt.Errorf("streamworkers: %s: output stream %s: %w", s.id, target, err)
	}
	// AttachProducer refuses the reserved streams (a collection's op log):
	// a worker writes what a client may write.
	p, err := st.AttachProducer(s.producer, -1)
	if err != nil {
		return nil, fmt.Errorf("streamworkers: %s: producer on %s: %w", s.id, target, err)
	}
	s.producers[target] = p
	return p, nil
}

// upsert writes rows into a collection by key (replacing the document).
// Writing a row again writes the same document: idempotent. The rows of
// one batch are in order, so the last one of a key is its newest.
func (s *sink) upsert(collection string, rows []pendingRow) (bad int, err error) {
	ref := service.Ref{Tenant: s.id.Tenant, Fabric: s.id.Fabric, Collection: collection}
	// A key upserted several times in the batch is written once, with its
	// last row: the document ends the same (an aggregate without a window
	// makes a row per message).
	last := make(map[string]int, len(rows))
	for i, r := range rows {
		last[r.Key] = i
	}
	ws := make([]service.Write, 0, len(last))
	for i, r := range rows {
		if last[r.Key] != i {
			continue
		}
		doc, err := rowDoc(r.Value)
		if err != nil { // checked before the commit (checkRow): not expected
			s.log.Warn("stream worker row is not a document", zap.Stringer("worker", s.id), zap.Int64("seq", r.Seq), zap.Error(err))
			bad++
			continue
		}
		ws = append(ws, service.Write{Kind: service.Insert, Key: r.Key, Doc: doc, Overwrite: service.OverwriteReplace})
	}
	res, err := s.cols.Write(ref, ws)
	if err != nil {
		return 0, fmt.Errorf("streamworkers: %s: upserting %d rows into %s: %w", s.id, len(ws), collection, err)
	}
	for _, r := range res {
		if r.Err != nil {
			s.log.Warn("stream worker row refused by its collection", zap.Stringer("worker", s.id), zap.String("collection", collection),
				zap.String("key", r.Key), zap.Error(r.Err))
			bad++
		}
	}
	return bad, nil
}

// close detaches the producers.
func (s *sink) close() {
	for name, p := range s.producers {
		p.Close()
		delete(s.producers, name)
	}
}

// rowDoc decodes a row's JSON object into a document's attributes,
// without the system attributes (_key comes from the row's key).
func rowDoc(v []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("row value is not a JSON object: %w", err)
	}
	if m == nil {
		return nil, errors.New("row value is null, not a JSON object")
	}
	for _, k := range []string{"_key", "_id", "_rev"} {
		delete(m, k)
	}
	return m, nil
}

// checkRow is what a row must be before it is committed: for a stream,
// at most maxBytes (the broker's message limit); for a collection, a valid
// document key and a JSON object. A row that is not goes to the error
// stream instead (nil: it is fine), never stopping the worker.
func checkRow(out engine.Output, r engine.Row, maxBytes int) error {
	if out.Kind != engine.OutputCollection {
		if len(r.Value) > maxBytes {
			return fmt.Errorf("a row of %d bytes, the stream's limit is %d", len(r.Value), maxBytes)
		}
		return nil
	}
	if r.Key == "" {
		return errors.New("the row has no key to upsert it under (select a _key)")
	}
	if err := collections.ValidateKey(r.Key); err != nil {
		return err
	}
	_, err := rowDoc(r.Value)
	return err
}

// errorRecord is what the worker's error stream receives for a bad
// message or row.
type errorRecord struct {
	Worker   string `json:"worker"`
	Region   string `json:"region"`
	Stream   string `json:"stream,omitempty"`
	Position uint64 `json:"position"`
	Key      string `json:"key,omitempty"`
	Error    string `json:"error"`
	// Payload is the message (truncated to 4 KiB), when it is text.
	Payload   string `json:"payload,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
}

func errorValue(worker, region string, ev engine.Event, err error) json.RawMessage {
	rec := errorRecord{Worker: worker, Region: region, Stream: ev.Stream, Position: ev.Position, Key: ev.Key, Error: err.Error()}
	p := ev.Payload
	if len(p) > maxErrorPayloadBytes {
		p, rec.Truncated = p[:maxErrorPayloadBytes], true
	}
	if utf8.Valid(p) {
		rec.Payload = string(p)
	}
	b, _ := json.Marshal(rec) // strings and numbers only: cannot fail
	return b
}
