package spot

import "encoding/binary"

// The state machine's Pebble keys. Names never hold a 0 byte (naming
// rules), so 0 separates them.
//
//	0x01                          applied Raft index (8 bytes)
//	0x02 tenant 0 fabric 0 name   CollectionInfo (JSON)
//	0x03 id(8) key                document state (collections binary form)
//	0x04 tenant 0 fabric 0 id     index(8) + fingerprint(8) + outcome (de-duplication)
//	0x05 index(8) tenant 0 fabric 0 id   empty (de-duplication expiry queue)
//	0x06 index(8)                 the entry's change events (feed outbox, JSON)
const (
	prefixApplied    = 0x01
	prefixCollection = 0x02
	prefixDoc        = 0x03
	prefixDedup      = 0x04
	prefixDedupQueue = 0x05
	prefixFeedOutbox = 0x06
)

var keyApplied = []byte{prefixApplied}

func collectionPrefix(tenant, fabric string) []byte {
	k := make([]byte, 0, 3+len(tenant)+len(fabric))
	k = append(k, prefixCollection)
	k = append(k, tenant...)
	k = append(k, 0)
	k = append(k, fabric...)
	return append(k, 0)
}

func collectionKey(tenant, fabric, name string) []byte {
	return append(collectionPrefix(tenant, fabric), name...)
}

func docPrefix(collectionID uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixDoc}, collectionID)
}

func docKey(collectionID uint64, key string) []byte {
	return append(docPrefix(collectionID), key...)
}

func dedupKey(id string) []byte { return append([]byte{prefixDedup}, id...) }

func dedupQueueKey(index uint64, id string) []byte {
	return append(binary.BigEndian.AppendUint64([]byte{prefixDedupQueue}, index), id...)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
