package bench

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// preciseClock sleeps on a timerfd read through the runtime's poller: the
// goroutine parks without holding a thread or a processor and wakes when
// the kernel's high-resolution timer fires (tens of microseconds late on
// this machine's VM, against up to a millisecond for time.Sleep; measured
// in the README, "Latency at equal load").
type preciseClock struct {
	fd  int
	f   *os.File
	buf [8]byte
}

// newPreciseClock returns nil when the timerfd cannot be made.
func newPreciseClock() *preciseClock {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	return &preciseClock{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}
}

// sleep waits d (> 0); false when the clock failed.
func (c *preciseClock) sleep(d time.Duration) bool {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(c.fd, 0, &spec, nil); err != nil {
		return false
	}
	_, err := c.f.Read(c.buf[:])
	return err == nil
}

func (c *preciseClock) close() { _ = c.f.Close() }
