package shell

import (
	"errors"
	"fmt"

	"github.com/causeway/causeway/broker"
)

// Sentinel errors.
var (
	// ErrCorruptBody: an op body does not decode.
	ErrCorruptBody = errors.New("shell: corrupt op body")
	// ErrClosed: the shell is closed or closing.
	ErrClosed = errors.New("shell: closed")
	// ErrFailed: a journal write or a stream apply failed (a full disk):
	// publishes are refused, and nothing of a refused one is stored, until
	// the shell recovers by itself once the disk has room (see heal.go).
	ErrFailed = errors.New("shell: replication refuses publishes after a storage error (retry when space returns)")
	// ErrAppliedLater: the publish is journaled and replicated (it is
	// stored in every region) but its local stream append failed; it is
	// applied when the shell recovers. Not a refusal: a client that retries
	// under the same producer name and sequence id gets the duplicate
	// answer with its place once it is applied.
	ErrAppliedLater = errors.New("shell: outcome pending: journaled and replicated, applied to the local stream when space returns (retry with the same producer name and sequence id)")
	// ErrUnknownKind: an op kind with no registered apply function, or a
	// reserved kind.
	ErrUnknownKind = errors.New("shell: unknown op kind")
	// ErrNotApplied: a message was journaled but not appended to its
	// stream (a local stream of the same name).
	ErrNotApplied = errors.New("shell: message not applied to its stream")
	// ErrBusy: the engine loop did not answer in time (its pipeline is
	// full: storage is slower than the input).
	ErrBusy = errors.New("shell: replication busy, try again")
	// ErrNotLeading: in a region of several nodes, this node does not run
	// the region's replication now (another node leads its journals); it
	// wraps broker.ErrNotOwner, so front ends answer "retry" (503) or send
	// the client to the leader.
	ErrNotLeading = fmt.Errorf("%w: shell: this node does not lead the region's replication journals now", broker.ErrNotOwner)
	// ErrJournal: the journals are inconsistent with the configuration.
	ErrJournal = errors.New("shell: journal inconsistent")
	// ErrPaused: too many publishes already wait for a paused shell to
	// resume (pause.go).
	ErrPaused = fmt.Errorf("%w: shell: applying is paused while a region list changes", broker.ErrNotOwner)
	// ErrInvalidOptions refuses a shell's options that cannot work.
	ErrInvalidOptions = errors.New("shell: invalid options")
)
