package segment

// EncodeBatch appends recs (at least one) to dst as one batch in the log's
// own format (header, CRC32C, records) whose first record has offset base,
// and returns the extended slice. Replication ships records between nodes
// this way: a follower checks and decodes exactly what the leader read,
// and appends the records to its own log. The records' Offset fields are
// ignored.
func EncodeBatch(dst []byte, base uint64, recs []Record) []byte {
	return appendBatch(dst, base, recs)
}

// DecodeBatch checks the CRC and every field of the batch at the start of
// b, appends its records (with their offsets) to dst, and returns them and
// the batch's size in b. The records' Payload and Meta alias b. Damaged or
// truncated input returns an error wrapping ErrCorrupt and dst unchanged.
func DecodeBatch(b []byte, dst []Record) ([]Record, int, error) {
	recs, h, err := decodeBatch(b, dst)
	if err != nil {
		return recs, 0, err
	}
	return recs, int(h.size()), nil
}
