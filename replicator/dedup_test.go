package replicator

import "testing"

func TestDedup(t *testing.T) {
	type call struct {
		producer string
		seq      int64
		want     bool
	}
	tests := []struct {
		name  string
		max   int
		calls []call
	}{
		{"increasing accepted, repeats refused", 4, []call{
			{"p", 1, true}, {"p", 2, true}, {"p", 2, false}, {"p", 1, false}, {"p", 5, true}, {"p", 3, false},
		}},
		{"producers independent", 4, []call{
			{"p", 1, true}, {"q", 1, true}, {"q", 1, false}, {"p", 2, true},
		}},
		{"negative and zero ids", 4, []call{
			{"p", -3, true}, {"p", 0, true}, {"p", -1, false},
		}},
		{"lru forgets least recent producer", 2, []call{
			{"a", 5, true}, {"b", 5, true}, {"a", 5, false}, // a is now most recent
			{"c", 1, true},  // evicts b
			{"b", 5, true},  // b forgotten: accepted again (documented limit); evicts a
			{"c", 1, false}, // c still remembered
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDedup(tc.max)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range tc.calls {
				if got := d.Accept(c.producer, c.seq); got != c.want {
					t.Fatalf("call %d Accept(%s, %d) = %v, want %v", i, c.producer, c.seq, got, c.want)
				}
			}
			if d.Len() > tc.max {
				t.Fatalf("Len %d > max %d", d.Len(), tc.max)
			}
		})
	}
	if _, err := NewDedup(0); err == nil {
		t.Fatal("NewDedup(0) accepted")
	}
}
