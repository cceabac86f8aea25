package transport

import "errors"

// Sentinel errors.
var (
	// ErrFrameTooLarge: a frame's length prefix exceeds the bound.
	ErrFrameTooLarge = errors.New("transport: frame too large")
	// ErrUnknownPeer: a name that is not a configured peer.
	ErrUnknownPeer = errors.New("transport: unknown peer")
	// ErrBadHello: a connection's first frame is not a valid hello.
	ErrBadHello = errors.New("transport: bad hello")
	// ErrInvalidConfig: the configuration does not validate.
	ErrInvalidConfig = errors.New("transport: invalid config")
	// ErrInvalidAddrs: a peer's address list does not parse (ParseAddrs).
	ErrInvalidAddrs = errors.New("transport: invalid peer addresses")
	// ErrClosed: the transport is closed.
	ErrClosed = errors.New("transport: closed")
)
