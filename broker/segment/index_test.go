package segment

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestIndexDecode(t *testing.T) {
	first := indexEntry{0, 0, math.MinInt64}
	valid := []indexEntry{first, {3, 4100, 10}, {9, 8300, 10}, {12, 12500, 40}}
	for _, tc := range []struct {
		name     string
		data     []byte
		logBytes int64
		want     []indexEntry // nil: ErrCorrupt
	}{
		{"valid", encodeIndex(valid), 13000, valid},
		{"empty for empty segment", nil, 0, []indexEntry{}},
		{"empty for non-empty segment", nil, 100, nil},
		{"partial entry", encodeIndex(valid)[:20], 13000, nil},
		{"bad first entry", encodeIndex([]indexEntry{{1, 0, math.MinInt64}}), 100, nil},
		{"points past the end", encodeIndex(valid), 12500, nil},
		{"offsets out of order", encodeIndex([]indexEntry{first, {5, 100, 0}, {5, 200, 0}}), 1000, nil},
		{"positions out of order", encodeIndex([]indexEntry{first, {5, 100, 0}, {6, 100, 0}}), 1000, nil},
		{"times decreasing", encodeIndex([]indexEntry{first, {5, 100, 9}, {6, 200, 8}}), 1000, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeIndex(tc.data, tc.logBytes)
			if tc.want == nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err = %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("decodeIndex = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestIndexSearch(t *testing.T) {
	entries := []indexEntry{{0, 0, math.MinInt64}, {10, 4096, 100}, {20, 8200, 100}, {30, 12300, 250}}
	for _, tc := range []struct {
		rel  uint64
		want int
	}{{0, 0}, {9, 0}, {10, 1}, {19, 1}, {20, 2}, {30, 3}, {1 << 40, 3}} {
		if got := searchOffset(entries, tc.rel); got != tc.want {
			t.Errorf("searchOffset(%d) = %d, want %d", tc.rel, got, tc.want)
		}
	}
	if got := searchOffset(nil, 5); got != -1 {
		t.Errorf("searchOffset on empty index = %d", got)
	}
	for _, tc := range []struct {
		ms   int64
		want int
	}{{math.MinInt64, -1}, {-5, 0}, {100, 0}, {101, 2}, {250, 2}, {251, 3}, {math.MaxInt64, 3}} {
		if got := searchTime(entries, tc.ms); got != tc.want {
			t.Errorf("searchTime(%d) = %d, want %d", tc.ms, got, tc.want)
		}
	}
	for _, tc := range []struct {
		pos, last int64
		interval  int
		want      bool
	}{{0, -1, 4096, true}, {100, 0, 4096, false}, {4096, 0, 4096, true}, {5, 4, 1, true}} {
		if got := needIndexEntry(tc.pos, tc.last, tc.interval); got != tc.want {
			t.Errorf("needIndexEntry(%d, %d, %d) = %v", tc.pos, tc.last, tc.interval, got)
		}
	}
}

func TestReadAheadBytes(t *testing.T) {
	v := &segView{seg: &segment{base: 100}, next: 200, size: 100 * 1000}
	for _, tc := range []struct {
		name                 string
		entry, from          uint64
		maxRecords, maxBytes int
		want                 int
	}{
		{"one record at the entry", 150, 150, 1, 1 << 20, 1001 + minReadAheadBytes},
		{"bytes limit", 150, 150, 100, 5000, 5000 + 1001 + minReadAheadBytes},
		{"records before from", 150, 152, 1, 1 << 20, 3*1001 + minReadAheadBytes},
		{"huge limits", 100, 199, math.MaxInt, math.MaxInt, maxReadAheadBytes},
	} {
		if got := readAheadBytes(v, tc.entry, tc.from, tc.maxRecords, tc.maxBytes); got != tc.want {
			t.Errorf("%s: readAheadBytes = %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := readAheadBytes(&segView{seg: &segment{base: 5}, next: 5}, 5, 5, 10, 10); got != minReadAheadBytes {
		t.Errorf("empty segment: %d", got)
	}
}
