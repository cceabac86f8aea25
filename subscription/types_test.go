package subscription

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseType(t *testing.T) {
	tests := []struct {
		in   string
		want Type
		err  bool
	}{
		{"Exclusive", Exclusive, false},
		{"shared", Shared, false},
		{"FAILOVER", Failover, false},
		{"Key_Shared", KeyShared, false},
		{"KeyShared", KeyShared, false},
		{"KEY_SHARED", KeyShared, false},
		{"key-shared", 0, true},
		{"", 0, true},
		{"round-robin", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseType(tt.in)
		if (err != nil) != tt.err || (err == nil && got != tt.want) {
			t.Errorf("ParseType(%q) = %v, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("ParseType(%q) error %v is not ErrUnsupportedType", tt.in, err)
		}
	}
	for _, ty := range []Type{Exclusive, Shared, Failover, KeyShared} {
		if back, err := ParseType(ty.String()); err != nil || back != ty {
			t.Errorf("%v does not round-trip: %v, %v", ty, back, err)
		}
	}
	if s := Type(42).String(); s != "Type(42)" {
		t.Errorf("unknown type prints %q", s)
	}
	b, err := json.Marshal(struct{ T Type }{Shared})
	if err != nil || string(b) != `{"T":"Shared"}` {
		t.Errorf("JSON %s, %v", b, err)
	}
	var v struct{ P Position }
	if err := json.Unmarshal([]byte(`{"P":"earliest"}`), &v); err != nil || v.P != Earliest {
		t.Errorf("JSON position %v, %v", v.P, err)
	}
	if _, err := ParsePosition("middle"); err == nil {
		t.Error("ParsePosition accepted middle")
	}
}
