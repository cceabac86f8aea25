// Package naming owns the rules for tenant, fabric, stream and subscription
// names and the fully qualified stream name ("persistent://tenant/fabric/stream").
// It is pure code shared by every front end.
package naming

import (
	"errors"
	"fmt"
	"strings"
)

// MaxNameBytes bounds every single name.
const MaxNameBytes = 128

// Defaults that exist on first start.
const (
	DefaultTenant = "_mm"
	SystemFabric  = "_system"
)

// ErrInvalidName reports a name that breaks the naming rules.
var ErrInvalidName = errors.New("naming: invalid name")

// Validate checks one name: 1..128 bytes of ASCII letters, digits, '_', '-'
// and '.', not "." or "..", not starting with '.' or '-'. Names never contain
// '/', so no name can address another tenant's data.
func Validate(kind, name string) error {
	if name == "" {
		return fmt.Errorf("%w: %s name is empty", ErrInvalidName, kind)
	}
	if len(name) > MaxNameBytes {
		return fmt.Errorf("%w: %s name is %d bytes, the limit is %d", ErrInvalidName, kind, len(name), MaxNameBytes)
	}
	if name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("%w: %s name %q must not start with %q", ErrInvalidName, kind, name, name[0])
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return fmt.Errorf("%w: %s name %q: character %q not allowed (letters, digits, '_', '-', '.')", ErrInvalidName, kind, name, c)
		}
	}
	return nil
}

// Stream is a fully qualified stream name.
type Stream struct {
	Persistent bool
	Tenant     string
	Fabric     string
	Name       string
}

// Validate checks every part.
func (s Stream) Validate() error {
	if err := Validate("tenant", s.Tenant); err != nil {
		return err
	}
	if err := Validate("fabric", s.Fabric); err != nil {
		return err
	}
	return Validate("stream", s.Name)
}

// Domain is "persistent" or "non-persistent".
func (s Stream) Domain() string {
	if s.Persistent {
		return "persistent"
	}
	return "non-persistent"
}

// String is the Pulsar-style topic name: persistent://tenant/fabric/stream.
func (s Stream) String() string {
	return s.Domain() + "://" + s.Tenant + "/" + s.Fabric + "/" + s.Name
}

// ParseStream parses "persistent://t/f/s", "non-persistent://t/f/s", or a
// bare "t/f/s" (persistent).
func ParseStream(full string) (Stream, error) {
	s := Stream{Persistent: true}
	rest := full
	if i := strings.Index(full, "://"); i >= 0 {
		switch full[:i] {
		case "persistent":
		case "non-persistent":
			s.Persistent = false
		default:
			return Stream{}, fmt.Errorf("%w: unknown domain %q in %q", ErrInvalidName, full[:i], full)
		}
		rest = full[i+3:]
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return Stream{}, fmt.Errorf("%w: %q: want tenant/fabric/stream", ErrInvalidName, full)
	}
	s.Tenant, s.Fabric, s.Name = parts[0], parts[1], parts[2]
	if err := s.Validate(); err != nil {
		return Stream{}, err
	}
	return s, nil
}
