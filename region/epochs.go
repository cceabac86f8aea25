package region

// EpochStart is where a leader epoch's records begin in a replica's log.
type EpochStart struct {
	Epoch  uint64 `json:"epoch"`
	Offset uint64 `json:"offset"`
}

// Epochs is a replica's leader-epoch history (Kafka's leader epoch cache):
// for every epoch that wrote records into this log, its first offset, in
// increasing order of both. Records of one epoch at one offset are the same
// on every replica (each epoch had one leader and one log), so comparing
// epoch histories finds where two logs diverge without reading records.
type Epochs []EpochStart

// Last is the epoch of the log's last record (0 for an empty history).
func (e Epochs) Last() uint64 {
	if len(e) == 0 {
		return 0
	}
	return e[len(e)-1].Epoch
}

// EndFor returns the largest epoch of the history not above epoch, and the
// offset where it ends here: the start of the next epoch in the history, or
// end (the log's end offset) if it is the last. (0, first start or end) if
// every epoch of the history is above epoch.
func (e Epochs) EndFor(epoch, end uint64) (found, endOffset uint64) {
	for i := len(e) - 1; i >= 0; i-- {
		if e[i].Epoch <= epoch {
			if i+1 < len(e) {
				return e[i].Epoch, e[i+1].Offset
			}
			return e[i].Epoch, end
		}
	}
	if len(e) > 0 {
		return 0, e[0].Offset
	}
	return 0, end
}

// Assign notes that records of epoch start at offset (nothing if the
// history already ends in that epoch).
func (e Epochs) Assign(epoch, offset uint64) Epochs {
	if len(e) > 0 && e[len(e)-1].Epoch >= epoch {
		return e
	}
	return append(e, EpochStart{Epoch: epoch, Offset: offset})
}

// TruncateTo forgets the epochs whose records all lie at or past offset.
func (e Epochs) TruncateTo(offset uint64) Epochs {
	for len(e) > 0 && e[len(e)-1].Offset >= offset {
		e = e[:len(e)-1]
	}
	return e
}
