//go:build !linux

package bench

import "time"

// preciseClock exists on Linux only (precise_linux.go); elsewhere senders
// wait on the runtime's timer.
type preciseClock struct{}

func newPreciseClock() *preciseClock { return nil }

func (c *preciseClock) sleep(time.Duration) bool { return false }

func (c *preciseClock) close() {}
