package shell

import "errors"

// Sentinel errors.
var (
	// ErrCorruptBody: an op body does not decode.
	ErrCorruptBody = errors.New("shell: corrupt op body")
	// ErrClosed: the shell is closed or closing.
	ErrClosed = errors.New("shell: closed")
	// ErrFailed: a journal write failed; the node must be restarted to
	// recover replication from its journals.
	ErrFailed = errors.New("shell: replication failed after a journal error, restart the node")
	// ErrUnknownKind: an op kind with no registered apply function, or a
	// reserved kind.
	ErrUnknownKind = errors.New("shell: unknown op kind")
	// ErrNotApplied: a message was journaled but not appended to its
	// stream (a local stream of the same name).
	ErrNotApplied = errors.New("shell: message not applied to its stream")
	// ErrBusy: the engine loop did not answer in time (its pipeline is
	// full: storage is slower than the input).
	ErrBusy = errors.New("shell: replication busy, try again")
	// ErrJournal: the journals are inconsistent with the configuration.
	ErrJournal = errors.New("shell: journal inconsistent")
)
