package collections

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind is what an op does to its document.
type Kind uint8

// The kinds of op. Their numbers are part of the binary encoding.
const (
	// KindInsert creates the document from Value (a JSON object). The
	// reducer treats it exactly like KindReplace; refusing an insert of an
	// existing key is a local check of the API.
	KindInsert Kind = 1
	// KindReplace makes the document Value (a JSON object): it removes every
	// attribute it observed and writes Value's.
	KindReplace Kind = 2
	// KindDelete deletes the document: it removes every attribute it observed.
	KindDelete Kind = 3
	// KindSet sets the attribute at Path to Value (any JSON value).
	KindSet Kind = 4
	// KindUnset deletes the attribute at Path.
	KindUnset Kind = 5
	// KindIncrement adds Value (a JSON integer) to the number at Path.
	KindIncrement Kind = 6
)

var kindNames = [...]string{
	KindInsert:    "insert",
	KindReplace:   "replace",
	KindDelete:    "delete",
	KindSet:       "set",
	KindUnset:     "unset",
	KindIncrement: "increment",
}

// String returns the kind's name as used in the JSON form.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= KindInsert && k <= KindIncrement }

// kindByName is the inverse of String for valid kinds.
func kindByName(name string) (Kind, bool) {
	for k := KindInsert; k <= KindIncrement; k++ {
		if kindNames[k] == name {
			return k, true
		}
	}
	return 0, false
}

// wholeDocument reports whether the op addresses the document itself
// (Path empty) rather than an attribute.
func (k Kind) wholeDocument() bool {
	return k == KindInsert || k == KindReplace || k == KindDelete
}

// Op is one operation on one document of a collection.
//
// Dot names the op; Context is what its origin had delivered when it made it
// (it never covers Dot itself). HLC is a hybrid logical timestamp used only
// to break ties between concurrent writes. ExpiresAt is an absolute expiry in
// Unix milliseconds (0: none) for key/value collections; the reducer stores it
// and never reads a clock.
type Op struct {
	Collection string
	Key        string
	Kind       Kind
	Dot        Dot
	Context    Vector
	HLC        uint64
	ExpiresAt  uint64
	// Path names the attribute (object keys from the top) for KindSet,
	// KindUnset and KindIncrement; it is empty for the other kinds.
	Path []string
	// Value is compact JSON: an object for KindInsert and KindReplace, any
	// value for KindSet, an integer for KindIncrement, empty otherwise.
	Value json.RawMessage
}

// ID returns the document id, collection/key.
func (op *Op) ID() string { return op.Collection + "/" + op.Key }

// Validate checks every rule of the format. An op that passes can be encoded,
// decoded and applied without error.
func (op *Op) Validate() error {
	if err := op.validate(); err != nil {
		return fmt.Errorf("%w: %s %s %s: %w", ErrInvalidOp, op.Kind, op.ID(), op.Dot, err)
	}
	return nil
}

func (op *Op) validate() error {
	if !op.Kind.valid() {
		return fmt.Errorf("unknown kind %d", uint8(op.Kind))
	}
	if err := validateCollection(op.Collection); err != nil {
		return err
	}
	if err := validateKey(op.Key); err != nil {
		return err
	}
	if err := op.Dot.validate(); err != nil {
		return err
	}
	if err := op.Context.Validate(); err != nil {
		return fmt.Errorf("context: %w", err)
	}
	if op.Context.Covers(op.Dot) {
		return fmt.Errorf("context %s covers the op's own dot", op.Context)
	}
	if err := op.validatePath(); err != nil {
		return err
	}
	return op.validateValue()
}

func (op *Op) validatePath() error {
	if op.Kind.wholeDocument() {
		if len(op.Path) != 0 {
			return fmt.Errorf("%s takes no path", op.Kind)
		}
		return nil
	}
	if len(op.Path) == 0 || len(op.Path) > maxPathDepth {
		return fmt.Errorf("path has %d names, want 1 to %d", len(op.Path), maxPathDepth)
	}
	for _, name := range op.Path {
		if err := validateName(name); err != nil {
			return err
		}
	}
	if isSystemName(op.Path[0]) {
		return fmt.Errorf("attribute %q is reserved", op.Path[0])
	}
	return nil
}

func (op *Op) validateValue() error {
	switch op.Kind {
	case KindDelete, KindUnset:
		if len(op.Value) != 0 {
			return fmt.Errorf("%s takes no value", op.Kind)
		}
		if op.ExpiresAt != 0 {
			return fmt.Errorf("%s takes no expiry", op.Kind)
		}
		return nil
	case KindIncrement:
		if _, ok := parseInteger(op.Value); !ok {
			return fmt.Errorf("increment %q is not a JSON integer in the 64-bit range", truncate(op.Value))
		}
		return nil
	}
	kind, err := checkValue(op.Value)
	if err != nil {
		return err
	}
	if op.Kind == KindSet {
		return nil
	}
	if kind != valueObject {
		return fmt.Errorf("%s needs a JSON object, got %q", op.Kind, truncate(op.Value))
	}
	for _, m := range splitObject(op.Value) {
		if isSystemName(m.name) {
			return fmt.Errorf("attribute %q is reserved", m.name)
		}
	}
	return nil
}

// isSystemName reports the top-level names the view writes itself.
func isSystemName(name string) bool {
	return name == "_key" || name == "_id" || name == "_rev"
}

func validateName(name string) error {
	if len(name) > maxNameBytes || !utf8.ValidString(name) {
		return fmt.Errorf("attribute name %q: want at most %d bytes of UTF-8", truncate([]byte(name)), maxNameBytes)
	}
	return nil
}

// validateCollection follows ArangoDB: a letter or underscore, then letters,
// digits, underscores and dashes.
func validateCollection(c string) error {
	if c == "" || len(c) > maxCollectionBytes {
		return fmt.Errorf("collection name %q: want 1 to %d bytes", c, maxCollectionBytes)
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		ok := isASCIILetter(ch) || ch == '_' || (i > 0 && (isASCIIDigit(ch) || ch == '-'))
		if !ok {
			return fmt.Errorf("collection name %q: byte %d not allowed", c, i)
		}
	}
	return nil
}

// keyPunctuation lists the punctuation ArangoDB allows in a document key.
const keyPunctuation = "_-:.@()+,=;$!*'%"

// validateKey follows ArangoDB's document key rules.
func validateKey(k string) error {
	if k == "" || len(k) > maxKeyBytes {
		return fmt.Errorf("document key %q: want 1 to %d bytes", k, maxKeyBytes)
	}
	for i := 0; i < len(k); i++ {
		ch := k[i]
		if !isASCIILetter(ch) && !isASCIIDigit(ch) && strings.IndexByte(keyPunctuation, ch) < 0 {
			return fmt.Errorf("document key %q: byte %d not allowed", k, i)
		}
	}
	return nil
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isASCIIDigit(c byte) bool  { return c >= '0' && c <= '9' }

// truncate shortens b for an error message.
func truncate(b []byte) string {
	const maxShownBytes = 64
	if len(b) > maxShownBytes {
		return string(b[:maxShownBytes]) + "..."
	}
	return string(b)
}
