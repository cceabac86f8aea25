package collections

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Op is one kind of operation of the mix.
type Op int

// The operations.
const (
	Insert Op = iota
	Patch
	Read
	Query
	numOps
)

var opNames = [numOps]string{"insert", "patch", "read", "query"}

func (o Op) String() string {
	if o < 0 || o >= numOps {
		return "op(" + strconv.Itoa(int(o)) + ")"
	}
	return opNames[o]
}

// ErrInvalidMix is returned for a mix that cannot be used.
var ErrInvalidMix = errors.New("collections: invalid operation mix")

// Mix is the share of each operation, in percent-like weights.
type Mix [numOps]int

// DefaultMix is 20% inserts, 50% patches, 25% reads, 5% queries.
var DefaultMix = Mix{20, 50, 25, 5}

// ParseMix reads "insert=20,patch=50,read=25,query=5"; missing kinds get 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Mix{}, fmt.Errorf("%w: %q: want kind=weight", ErrInvalidMix, part)
		}
		w, err := strconv.Atoi(v)
		if err != nil || w < 0 || w > 1000000 {
			return Mix{}, fmt.Errorf("%w: weight %q: want 0..1000000", ErrInvalidMix, v)
		}
		found := false
		for o := range numOps {
			if opNames[o] == k {
				m[o], found = w, true
			}
		}
		if !found {
			return Mix{}, fmt.Errorf("%w: kind %q: want insert, patch, read or query", ErrInvalidMix, k)
		}
	}
	return m, m.Validate()
}

// Validate requires some inserts (patches and reads need documents).
func (m Mix) Validate() error {
	if m[Insert] <= 0 {
		return fmt.Errorf("%w: inserts must have a weight (the other operations use inserted documents)", ErrInvalidMix)
	}
	return nil
}

// String is the ParseMix form.
func (m Mix) String() string {
	parts := make([]string, 0, numOps)
	for o := range numOps {
		parts = append(parts, opNames[o]+"="+strconv.Itoa(m[o]))
	}
	return strings.Join(parts, ",")
}

// Pick maps a uniform draw u in [0, total weight) to an operation;
// operations that need a document become inserts while there is none.
func (m Mix) Pick(u int, haveDocs bool) Op {
	for o := range numOps {
		if u < m[o] {
			if !haveDocs && o != Insert && o != Query {
				return Insert
			}
			return o
		}
		u -= m[o]
	}
	return Insert
}

// Total is the sum of the weights.
func (m Mix) Total() int {
	t := 0
	for _, w := range m {
		t += w
	}
	return t
}

// Tally is what one region reports about the collection: documents and the
// sum of their counters.
type Tally struct {
	Docs, Sum int64
}

// converged reports whether every region's tally is the expected one.
func converged(want Tally, got []Tally) bool {
	for _, g := range got {
		if g != want {
			return false
		}
	}
	return len(got) > 0
}
