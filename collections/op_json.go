package collections

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// opJSON is the JSON form of an op, for debugging and tests:
//
//	{"collection":"users","key":"alice","kind":"set",
//	 "dot":{"region":"us-east","seq":7},"context":{"eu-west":3,"us-east":6},
//	 "hlc":1700000000000,"path":["address","city"],"value":"Paris"}
type opJSON struct {
	Collection string            `json:"collection"`
	Key        string            `json:"key"`
	Kind       string            `json:"kind"`
	Dot        dotJSON           `json:"dot"`
	Context    map[string]uint64 `json:"context,omitempty"`
	HLC        uint64            `json:"hlc"`
	ExpiresAt  uint64            `json:"expiresAt,omitempty"`
	Path       []string          `json:"path,omitempty"`
	Value      json.RawMessage   `json:"value,omitempty"`
}

type dotJSON struct {
	Region string `json:"region"`
	Seq    uint64 `json:"seq"`
}

// MarshalJSON returns the JSON form of op. The value comes back from
// UnmarshalJSON as equal JSON, though not always byte for byte: a caller's
// json.Marshal re-escapes <, > and & in strings.
func (op Op) MarshalJSON() ([]byte, error) {
	if err := op.Validate(); err != nil {
		return nil, err
	}
	j := opJSON{
		Collection: op.Collection,
		Key:        op.Key,
		Kind:       op.Kind.String(),
		Dot:        dotJSON(op.Dot),
		HLC:        op.HLC,
		ExpiresAt:  op.ExpiresAt,
		Path:       op.Path,
		Value:      op.Value,
	}
	if len(op.Context) > 0 {
		j.Context = make(map[string]uint64, len(op.Context))
		for _, e := range op.Context {
			j.Context[e.Region] = e.Seq
		}
	}
	// No HTML escaping: the value's bytes must come back exactly.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// UnmarshalJSON decodes the JSON form of an op; the value may carry
// whitespace (it is compacted). Unknown fields and invalid ops are rejected.
func (op *Op) UnmarshalJSON(b []byte) error {
	var j opJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: json: %w", ErrInvalidOp, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: json: trailing data", ErrInvalidOp)
	}
	kind, ok := kindByName(j.Kind)
	if !ok {
		return fmt.Errorf("%w: json: unknown kind %q", ErrInvalidOp, j.Kind)
	}
	for r, s := range j.Context {
		if s == 0 {
			return fmt.Errorf("%w: json: context entry %q is zero", ErrInvalidOp, r)
		}
	}
	decoded := Op{
		Collection: j.Collection,
		Key:        j.Key,
		Kind:       kind,
		Dot:        Dot(j.Dot),
		HLC:        j.HLC,
		ExpiresAt:  j.ExpiresAt,
		Path:       j.Path,
	}
	if len(j.Context) > 0 {
		decoded.Context = VectorOf(j.Context)
	}
	if len(j.Value) > 0 {
		var compact bytes.Buffer
		if err := json.Compact(&compact, j.Value); err != nil {
			return fmt.Errorf("%w: json: value: %w", ErrInvalidOp, err)
		}
		decoded.Value = compact.Bytes()
	}
	if err := decoded.Validate(); err != nil {
		return err
	}
	*op = decoded
	return nil
}
