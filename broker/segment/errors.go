package segment

import "errors"

var (
	// ErrClosed is returned by every call on a closed log.
	ErrClosed = errors.New("segment: log closed")
	// ErrOffsetOutOfRange is returned when reading below StartOffset or past
	// EndOffset.
	ErrOffsetOutOfRange = errors.New("segment: offset out of range")
	// ErrRecordTooLarge is returned by Append for a record above
	// MaxRecordBytes or an append above maxAppendBytes; nothing is written.
	ErrRecordTooLarge = errors.New("segment: record too large")
	// ErrCorrupt is returned when stored bytes fail their checks.
	ErrCorrupt = errors.New("segment: corrupt data")
	// ErrFailed is returned by Append after an I/O error left the log in an
	// unknown state; reopen the log to recover.
	ErrFailed = errors.New("segment: log failed after an I/O error, reopen to recover")
	// ErrPayloadUnavailable is returned by a read that meets a record whose
	// payload is stored elsewhere (Record.PayloadRef) and cannot get it.
	ErrPayloadUnavailable = errors.New("segment: payload stored elsewhere is unavailable")
	// ErrInvalidArgument is returned for calls that make no sense (an empty
	// append, a read of fewer than one record).
	ErrInvalidArgument = errors.New("segment: invalid argument")
)
