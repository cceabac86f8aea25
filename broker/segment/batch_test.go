package segment

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"reflect"
	"strings"
	"testing"
)

// withOffsets returns copies of recs numbered from base, as decoding yields.
func withOffsets(base uint64, recs []Record) []Record {
	out := make([]Record, len(recs))
	for i, r := range recs {
		r.Offset = base + uint64(i)
		out[i] = r
	}
	return out
}

func fullRecord() Record {
	return Record{
		Offset:      999, // ignored by the encoder
		PublishTime: 1_700_000_000_123,
		EventTime:   -5,
		Key:         "user/42",
		Properties:  map[string]string{"a": "1", "": "empty key", "ü": ""},
		Payload:     []byte("hello\x00world"),
		Producer:    "producer-1",
		SequenceID:  -77,
		Origin:      "eu-west",
		OriginSeq:   math.MaxUint64,
		Meta:        []byte{1, 2, 3},
	}
}

func TestBatchRoundTrip(t *testing.T) {
	big := make([]Record, 300)
	for i := range big {
		big[i] = fullRecord()
		big[i].PublishTime += int64(i % 7)
		big[i].Producer = []string{"p", "q"}[i%2]
	}
	for _, tc := range []struct {
		name string
		base uint64
		recs []Record
	}{
		{"zero record", 0, []Record{{}}},
		{"full record", 7, []Record{fullRecord()}},
		{"nil vs empty properties", 1, []Record{{Properties: nil}, {Properties: map[string]string{}}}},
		{"nil vs empty payload", 1, []Record{{Payload: nil}, {Payload: []byte{}}}},
		{"nil vs empty meta", 1, []Record{{Meta: nil}, {Meta: []byte{}}}},
		{"extreme times", 1 << 40, []Record{
			{PublishTime: math.MaxInt64, EventTime: math.MinInt64},
			{PublishTime: math.MinInt64, EventTime: math.MaxInt64},
			{PublishTime: 0},
		}},
		{"decreasing publish times", 3, []Record{{PublishTime: 100}, {PublishTime: 50}, {PublishTime: 75}}},
		{"large payload", 0, []Record{{Payload: []byte(strings.Repeat("x", 100_000))}}},
		{"many records, repeated names", 12, big},
		{"max base offset", math.MaxUint64 - 1, []Record{{Key: "last"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := appendBatch([]byte("prefix"), tc.base, tc.recs)[len("prefix"):]
			got, h, err := decodeBatch(b, nil)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if want := withOffsets(tc.base, tc.recs); !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
			}
			if h.baseOffset != tc.base || int(h.count) != len(tc.recs) || h.size() != int64(len(b)) {
				t.Errorf("header %+v for %d bytes", h, len(b))
			}
			maxTime := tc.recs[0].PublishTime
			for _, r := range tc.recs {
				maxTime = max(maxTime, r.PublishTime)
			}
			if h.firstTime != tc.recs[0].PublishTime || h.maxTime != maxTime {
				t.Errorf("header times %d/%d, want %d/%d", h.firstTime, h.maxTime, tc.recs[0].PublishTime, maxTime)
			}
			if err := validateBatch(b); err != nil {
				t.Errorf("validateBatch: %v", err)
			}
			// Trailing bytes after a batch belong to the next one.
			if _, _, err := decodeBatch(append(append([]byte(nil), b...), 0xC1, 0, 0), nil); err != nil {
				t.Errorf("decode with trailing bytes: %v", err)
			}
		})
	}
}

func TestRecordSize(t *testing.T) {
	for _, r := range []Record{{}, fullRecord(), {Payload: make([]byte, 200), Key: strings.Repeat("k", 130)}} {
		b := appendBatch(nil, 0, []Record{r})
		if got, want := r.Size(), len(b)-batchHeaderBytes; got != want {
			t.Errorf("Size() = %d, encoded body is %d bytes (%+v)", got, want, r)
		}
	}
}

func TestBatchDetectsEveryByteFlip(t *testing.T) {
	b := appendBatch(nil, 10, []Record{fullRecord(), {Key: "k"}})
	for i := range b {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			c := append([]byte(nil), b...)
			c[i] ^= mask
			if _, _, err := decodeBatch(c, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x: err = %v, want ErrCorrupt", i, mask, err)
			}
		}
	}
}

func TestBatchTruncated(t *testing.T) {
	b := appendBatch(nil, 0, []Record{fullRecord()})
	for n := 0; n < len(b); n++ {
		if _, _, err := decodeBatch(b[:n], nil); !errors.Is(err, errTruncated) {
			t.Fatalf("prefix of %d/%d bytes: err = %v, want truncated", n, len(b), err)
		}
	}
}

// rawBatch frames body as a batch with a valid CRC, so the body checks are
// exercised on their own.
func rawBatch(base uint64, count uint32, first, maxTime int64, body []byte) []byte {
	b := make([]byte, batchHeaderBytes, batchHeaderBytes+len(body))
	b[0] = batchMagic
	binary.LittleEndian.PutUint32(b[1:], uint32(len(body)))
	binary.LittleEndian.PutUint64(b[9:], base)
	binary.LittleEndian.PutUint32(b[17:], count)
	binary.LittleEndian.PutUint64(b[21:], uint64(first))
	binary.LittleEndian.PutUint64(b[29:], uint64(maxTime))
	b = append(b, body...)
	binary.LittleEndian.PutUint32(b[5:], crc32.Checksum(b[crcStart:], castagnoli))
	return b
}

func TestDecodeBatchRejects(t *testing.T) {
	// A minimal valid record body: flags, then ten zero varints.
	minimal := make([]byte, minRecordBytes)
	withFlags := func(flags byte) []byte { b := append([]byte(nil), minimal...); b[0] = flags; return b }
	if _, _, err := decodeBatch(rawBatch(0, 1, 0, 0, minimal), nil); err != nil {
		t.Fatalf("minimal record rejected: %v", err)
	}
	for _, tc := range []struct {
		name  string
		batch []byte
	}{
		{"bad magic", func() []byte { b := rawBatch(0, 1, 0, 0, minimal); b[0] = 0xC2; return b }()},
		{"zero records", rawBatch(0, 0, 0, 0, nil)},
		{"count larger than body allows", rawBatch(0, 2, 0, 0, minimal)},
		{"count larger than body holds", rawBatch(0, 2, 0, 0, append(append([]byte(nil), minimal...), make([]byte, 5)...))},
		{"offset overflow", rawBatch(math.MaxUint64, 2, 0, 0, append(append([]byte(nil), minimal...), minimal...))},
		{"unknown flags", rawBatch(0, 1, 0, 0, withFlags(0x08))},
		{"trailing body bytes", rawBatch(0, 1, 0, 0, append(append([]byte(nil), minimal...), 0))},
		{"first record not at the first time", rawBatch(0, 1, 0, 1, []byte{0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0})},
		{"wrong max time", rawBatch(0, 1, 0, 9, minimal)},
		{"properties flagged nil", rawBatch(0, 1, 0, 0, []byte{0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})},
		{"payload flagged nil", rawBatch(0, 1, 0, 0, []byte{0, 0, 0, 0, 0, 1, 'x', 0, 0, 0, 0, 0})},
		{"length past the end", rawBatch(0, 1, 0, 0, []byte{0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0})},
		{"bad varint", rawBatch(0, 1, 0, 0, []byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})},
		{"huge property count", rawBatch(0, 1, 0, 0, []byte{1, 0, 0, 0, 0xff, 0xff, 0x03, 0, 0, 0, 0, 0, 0})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, _, err := decodeBatch(tc.batch, []Record{{Key: "keep"}})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if len(recs) != 1 || recs[0].Key != "keep" {
				t.Fatalf("dst changed on error: %+v", recs)
			}
			if err := validateBatch(tc.batch); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("validateBatch err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestFsyncPolicyParse(t *testing.T) {
	for _, p := range []FsyncPolicy{FsyncAlways, FsyncInterval, FsyncNever} {
		got, err := ParseFsyncPolicy(p.String())
		if err != nil || got != p {
			t.Errorf("ParseFsyncPolicy(%q) = %v, %v", p.String(), got, err)
		}
	}
	for _, s := range []string{"", "Always", "sometimes"} {
		if _, err := ParseFsyncPolicy(s); err == nil {
			t.Errorf("ParseFsyncPolicy(%q) accepted", s)
		}
	}
	if got := FsyncPolicy(9).String(); got != "FsyncPolicy(9)" {
		t.Errorf("String of unknown policy = %q", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (Options{}).WithDefaults().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	d := Options{}.WithDefaults()
	if d.SegmentMaxBytes != 64<<20 || d.IndexIntervalBytes != 4096 || d.Fsync != FsyncAlways ||
		d.FsyncInterval.Seconds() != 1 || d.MaxBatchBytes != 4<<20 || d.MaxRecordBytes != 5<<20+64<<10 || d.Logger == nil {
		t.Errorf("defaults = %+v", d)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Options)
	}{
		{"negative segment", func(o *Options) { o.SegmentMaxBytes = -1 }},
		{"huge segment", func(o *Options) { o.SegmentMaxBytes = 2 << 30 }},
		{"negative index interval", func(o *Options) { o.IndexIntervalBytes = -1 }},
		{"unknown policy", func(o *Options) { o.Fsync = 7 }},
		{"negative interval", func(o *Options) { o.FsyncInterval = -1 }},
		{"negative batch", func(o *Options) { o.MaxBatchBytes = -1 }},
		{"tiny record limit", func(o *Options) { o.MaxRecordBytes = 3 }},
		{"negative retention", func(o *Options) { o.RetentionBytes = -1 }},
		{"negative age", func(o *Options) { o.RetentionAge = -1 }},
	} {
		o := Options{}
		tc.mod(&o)
		if err := o.WithDefaults().Validate(); err == nil || !strings.HasPrefix(err.Error(), "segment: ") {
			t.Errorf("%s: Validate = %v", tc.name, err)
		}
	}
}
