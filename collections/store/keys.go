package store

import (
	"encoding/binary"
)

// Key prefixes (see the package comment).
const (
	prefixCollection  = 'c'
	prefixNextID      = 'n'
	prefixDoc         = 'd'
	prefixRendered    = 'j'
	prefixIndex       = 'x'
	prefixExpiry      = 'e'
	prefixVector      = 'v'
	prefixPosition    = 'p'
	prefixSaved       = 'q'
	prefixShipped     = 's'
	prefixReplApplied = 'r'
	prefixBootstrap   = 'b'
	prefixOpLogBase   = 'o'
)

func nameKey(prefix byte, tenant, fabric, name string) []byte {
	k := make([]byte, 0, 3+len(tenant)+len(fabric)+len(name))
	k = append(k, prefix)
	k = append(k, tenant...)
	k = append(k, 0)
	k = append(k, fabric...)
	k = append(k, 0)
	return append(k, name...)
}

// fabricPrefix is the prefix of every name key of one fabric.
func fabricPrefix(prefix byte, tenant, fabric string) []byte {
	return nameKey(prefix, tenant, fabric, "")
}

func idKey(prefix byte, id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefix}, id)
}

func docKey(id uint64, key string) []byte {
	return append(idKey(prefixDoc, id), key...)
}

func renderedKey(id uint64, key string) []byte {
	return append(idKey(prefixRendered, id), key...)
}

func indexPrefix(id uint64, index uint32) []byte {
	return binary.BigEndian.AppendUint32(idKey(prefixIndex, id), index)
}

func indexKey(id uint64, index uint32, enc []byte, key string) []byte {
	k := append(indexPrefix(id, index), enc...)
	return append(k, key...)
}

func expiryKey(id, at uint64, key string) []byte {
	k := binary.BigEndian.AppendUint64(idKey(prefixExpiry, id), at)
	return append(k, key...)
}

// upperBound returns the smallest key above every key with prefix p.
func upperBound(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
