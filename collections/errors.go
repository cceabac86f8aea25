package collections

import "errors"

// Sentinel errors. Each is wrapped with context where it is returned.
var (
	// ErrInvalidOp reports an op that breaks the format's rules (bad name,
	// missing value, value of the wrong kind, bad dot or context, ...).
	ErrInvalidOp = errors.New("collections: invalid op")
	// ErrCorruptOp reports bytes that do not decode as an op.
	ErrCorruptOp = errors.New("collections: corrupt op encoding")
	// ErrCorruptState reports bytes that do not decode as a document state.
	ErrCorruptState = errors.New("collections: corrupt document state")
	// ErrWrongDocument reports an op applied to the state of another document.
	ErrWrongDocument = errors.New("collections: op for another document")
	// ErrInvalidName reports a document key, collection name or attribute
	// name that breaks the naming rules.
	ErrInvalidName = errors.New("collections: invalid name")
	// ErrUnsupportedVersion reports an encoding version this code does not read.
	ErrUnsupportedVersion = errors.New("collections: unsupported encoding version")
)
