package pubsub

import (
	"errors"
	"testing"
	"time"
)

func TestStampRoundTrip(t *testing.T) {
	for _, size := range []int{StampBytes, 100, 1024} {
		p := NewPayload(size)
		if len(p) != size {
			t.Fatalf("payload of %d bytes, want %d", len(p), size)
		}
		want := Stamp{Producer: 7, Seq: 1 << 40, Sent: time.Unix(1700000000, 123456789)}
		want.Put(p)
		got, err := ReadStamp(p)
		if err != nil || got.Producer != want.Producer || got.Seq != want.Seq || !got.Sent.Equal(want.Sent) {
			t.Errorf("size %d: ReadStamp = %+v, %v; want %+v", size, got, err, want)
		}
	}
	if n := len(NewPayload(3)); n != StampBytes {
		t.Errorf("tiny payload has %d bytes, want room for the stamp", n)
	}
}

func TestReadStampRejects(t *testing.T) {
	good := NewPayload(64)
	Stamp{Producer: 1, Seq: 2, Sent: time.Unix(3, 0)}.Put(good)
	bad := append([]byte(nil), good...)
	bad[0] = 'X'
	for name, p := range map[string][]byte{"nil": nil, "short": good[:StampBytes-1], "bad magic": bad, "text": []byte("hello, this is not a bench payload")} {
		if _, err := ReadStamp(p); !errors.Is(err, ErrNotStamped) {
			t.Errorf("%s: err %v, want ErrNotStamped", name, err)
		}
	}
}

// FuzzReadStamp: any payload decodes or is refused without panicking, and a
// decoded stamp re-encodes to the same first bytes.
func FuzzReadStamp(f *testing.F) {
	p := NewPayload(40)
	Stamp{Producer: 3, Seq: 9, Sent: time.Unix(5, 6)}.Put(p)
	f.Add(p)
	f.Add([]byte("cwb\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadStamp(data)
		if err != nil {
			return
		}
		out := make([]byte, StampBytes)
		s.Put(out)
		if string(out) != string(data[:StampBytes]) {
			t.Fatalf("stamp %+v re-encodes to %x, read from %x", s, out, data[:StampBytes])
		}
	})
}

func TestTracker(t *testing.T) {
	tr := NewTracker()
	for _, c := range []struct {
		producer uint32
		seq      uint64
		dup      bool
	}{{0, 0, false}, {0, 1, false}, {1, 0, false}, {0, 0, true}, {0, 5000, false}, {0, 5000, true}, {1, 0, true}} {
		dup, err := tr.Add(c.producer, c.seq)
		if err != nil || dup != c.dup {
			t.Errorf("Add(%d, %d) = %v, %v; want dup %v", c.producer, c.seq, dup, err, c.dup)
		}
	}
	if tr.Unique() != 4 || tr.Duplicates() != 3 {
		t.Errorf("unique %d duplicates %d, want 4 and 3", tr.Unique(), tr.Duplicates())
	}
	if _, err := tr.Add(0, maxTrackedSeq); !errors.Is(err, ErrSeqOutOfRange) {
		t.Errorf("out-of-range sequence: %v", err)
	}
	if tr.Unique() != 4 {
		t.Errorf("a refused sequence changed the count")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{}.WithDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	for _, c := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"tiny message", func(c *Config) { c.MessageBytes = 10 }},
		{"negative rate", func(c *Config) { c.Rate = -1 }},
		{"warm-up longer than run", func(c *Config) { c.Warmup = c.Duration }},
		{"no producer", func(c *Config) { c.Producers = 0 }},
		{"exclusive with two consumers", func(c *Config) { c.Consumers = 2 }},
		{"unknown type", func(c *Config) { c.SubscriptionType = "key_shared" }},
		{"too many partitions", func(c *Config) { c.Partitions = 5000 }},
		{"zero in flight", func(c *Config) { c.MaxInFlight = -1 }},
		{"huge receive queue", func(c *Config) { c.ReceiveQueue = 1 << 20 }},
		{"count beyond tracking", func(c *Config) { c.Count = maxTrackedSeq * 2 }},
	} {
		cfg := ok
		c.mutate(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", c.name, err)
		}
	}
	shared := ok
	shared.SubscriptionType, shared.Consumers = "shared", 4
	if err := shared.Validate(); err != nil {
		t.Errorf("4 shared consumers: %v", err)
	}
}
