package subscription

import (
	"fmt"
	"strings"
)

// Type is a subscription type. The values match Pulsar's SubType numbering,
// so the zero value is Exclusive, Pulsar's default.
type Type int

// Subscription types.
const (
	// Exclusive allows one consumer; a second one is refused.
	Exclusive Type = iota
	// Shared spreads messages round robin over consumers with permits.
	Shared
	// Failover delivers to one active consumer (lowest priority level,
	// then lowest name); the next one takes over when it leaves.
	Failover
	// KeyShared spreads keys over consumers by hash (see keyshared.go):
	// messages of one key go to one consumer at a time, in order.
	KeyShared
)

var typeNames = [...]string{Exclusive: "Exclusive", Shared: "Shared", Failover: "Failover", KeyShared: "Key_Shared"}

// String returns Pulsar's spelling of the type ("Exclusive", "Shared",
// "Failover", "Key_Shared"); ParseType accepts it back.
func (t Type) String() string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// ParseType parses a subscription type name, case-insensitively:
// "Exclusive", "Shared", "Failover" or "Key_Shared" (also "KeyShared").
func ParseType(s string) (Type, error) {
	switch strings.ToLower(s) {
	case "exclusive":
		return Exclusive, nil
	case "shared":
		return Shared, nil
	case "failover":
		return Failover, nil
	case "key_shared", "keyshared":
		return KeyShared, nil
	}
	return 0, fmt.Errorf("%w: %q (want Exclusive, Shared, Failover or Key_Shared)", ErrUnsupportedType, s)
}

func (t Type) supported() bool { return t >= Exclusive && t <= KeyShared }

// Position is where a new subscription's cursor starts. The values match
// Pulsar's InitialPosition numbering, so the zero value is Latest, Pulsar's
// default.
type Position int

// Initial positions.
const (
	// Latest starts at the end of the log: only messages published after the
	// subscription was created are delivered.
	Latest Position = iota
	// Earliest starts at the first message still stored.
	Earliest
)

// String returns "Latest" or "Earliest".
func (p Position) String() string {
	switch p {
	case Latest:
		return "Latest"
	case Earliest:
		return "Earliest"
	}
	return fmt.Sprintf("Position(%d)", int(p))
}

// ParsePosition parses "Latest" or "Earliest", case-insensitively.
func ParsePosition(s string) (Position, error) {
	switch strings.ToLower(s) {
	case "latest":
		return Latest, nil
	case "earliest":
		return Earliest, nil
	}
	return 0, fmt.Errorf("%w: initial position %q (want Earliest or Latest)", ErrInvalidArgument, s)
}

// MarshalText encodes the type as its name, so JSON shows "Shared".
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses a type name (see ParseType).
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MarshalText encodes the position as its name.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses a position name (see ParsePosition).
func (p *Position) UnmarshalText(b []byte) error {
	v, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
