package wsproto

import (
	"encoding/base64"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrBadMessageID reports a message id that is not valid base64 of a
// Pulsar MessageIdData.
var ErrBadMessageID = errors.New("wsproto: invalid message id")

// MessageID identifies a message within one region. It is encoded exactly as
// Pulsar encodes MessageIdData (protobuf, then standard base64), so Pulsar
// tooling can decode it: ledgerId carries the stream index within a
// multi-stream consumer (0 otherwise), entryId the offset in the stream
// partition, partition the partition index (-1 when the stream is not
// partitioned).
type MessageID struct {
	Stream    uint64 // index of the stream in a multi-stream consumer's list
	Offset    uint64
	Partition int32
}

const (
	fieldLedgerID   protowire.Number = 1
	fieldEntryID    protowire.Number = 2
	fieldPartition  protowire.Number = 3
	fieldBatchIndex protowire.Number = 4
	maxMessageIDLen                  = 128
)

// Encode returns the base64 form used in frames.
func (id MessageID) Encode() string {
	var b [64]byte
	return string(id.AppendEncoded(b[:0]))
}

// AppendEncoded appends the base64 form used in frames.
func (id MessageID) AppendEncoded(b []byte) []byte {
	var raw [40]byte
	buf := raw[:0]
	buf = protowire.AppendTag(buf, fieldLedgerID, protowire.VarintType)
	buf = protowire.AppendVarint(buf, id.Stream)
	buf = protowire.AppendTag(buf, fieldEntryID, protowire.VarintType)
	buf = protowire.AppendVarint(buf, id.Offset)
	buf = protowire.AppendTag(buf, fieldPartition, protowire.VarintType)
	buf = protowire.AppendVarint(buf, uint64(int64(id.Partition)))
	return base64.StdEncoding.AppendEncode(b, buf)
}

// String is the human form "stream:offset:partition".
func (id MessageID) String() string {
	return fmt.Sprintf("%d:%d:%d", id.Stream, id.Offset, id.Partition)
}

// ParseMessageID decodes the base64 form. Unknown protobuf fields are skipped,
// as protobuf requires; ledgerId and entryId are mandatory.
func ParseMessageID(s string) (MessageID, error) {
	if len(s) == 0 || len(s) > maxMessageIDLen {
		return MessageID{}, fmt.Errorf("%w: length %d", ErrBadMessageID, len(s))
	}
	var buf [maxMessageIDLen]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(s))
	if err != nil {
		return MessageID{}, fmt.Errorf("%w: %v", ErrBadMessageID, err)
	}
	return parseMessageIDData(buf[:n])
}

// parseMessageIDData decodes a MessageIdData.
func parseMessageIDData(raw []byte) (MessageID, error) {
	id := MessageID{Partition: -1}
	var haveLedger, haveEntry bool
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return MessageID{}, fmt.Errorf("%w: bad tag", ErrBadMessageID)
		}
		raw = raw[n:]
		if typ != protowire.VarintType {
			n = protowire.ConsumeFieldValue(num, typ, raw)
			if n < 0 {
				return MessageID{}, fmt.Errorf("%w: bad field %d", ErrBadMessageID, num)
			}
			raw = raw[n:]
			continue
		}
		v, n := protowire.ConsumeVarint(raw)
		if n < 0 {
			return MessageID{}, fmt.Errorf("%w: bad varint", ErrBadMessageID)
		}
		raw = raw[n:]
		switch num {
		case fieldLedgerID:
			id.Stream, haveLedger = v, true
		case fieldEntryID:
			id.Offset, haveEntry = v, true
		case fieldPartition:
			id.Partition = int32(v)
		}
	}
	if !haveLedger || !haveEntry {
		return MessageID{}, fmt.Errorf("%w: missing ledgerId or entryId", ErrBadMessageID)
	}
	return id, nil
}
