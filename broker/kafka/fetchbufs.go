package kafka

import "sync"

// maxPooledFetchBytes bounds the record-batch buffers kept for reuse: a
// rare larger one (a fetch of very large records) is left to the GC.
const maxPooledFetchBytes = 8 << 20

// fetchBufs recycles the buffers fetched record batches are encoded into.
// A fetch of a megabyte otherwise allocates (and zeroes) a new megabyte
// per partition; the connection's writer gives the buffers back once the
// answer is encoded (slot.recycle).
type fetchBufs struct{ pool sync.Pool }

// get returns an empty buffer, of some capacity.
func (f *fetchBufs) get() []byte {
	if b, ok := f.pool.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return nil
}

// put hands b back; nothing may use it afterwards.
func (f *fetchBufs) put(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledFetchBytes {
		return
	}
	b = b[:0]
	f.pool.Put(&b)
}
