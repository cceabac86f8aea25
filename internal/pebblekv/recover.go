package pebblekv

import (
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/zap"
)

// failure is why a store refuses writes until it is reopened.
type failure struct {
	err   error
	since time.Time
}

// lowSpace caches the last free-space check.
type lowSpace struct {
	checked time.Time
	err     error // non-nil: below the reserve (or the check failed)
}

// spaceCheckInterval is how long a free-space check is trusted.
const spaceCheckInterval = 10 * time.Millisecond

// markFailed makes the store refuse writes (the first error wins) and wakes
// the recovery loop. It logs once per failure.
func (d *DB) markFailed(err error, now time.Time) {
	d.mu.Lock()
	first := d.fail == nil
	if first {
		d.fail = &failure{err: err, since: now}
		d.stats.Failures++
	}
	d.mu.Unlock()
	if !first {
		return
	}
	d.log.Error("store refuses writes until the disk has room again; reads go on",
		zap.Error(err), zap.Bool("noSpace", IsNoSpace(err)))
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// spaceErr says why writes are refused for want of space (nil: there is
// room): the disk has less than ReserveBytes free. The answer is cached for
// spaceCheckInterval.
func (d *DB) spaceErr(now time.Time) error {
	if d.opts.ReserveBytes < 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.lowSpace.checked) >= spaceCheckInterval || now.Before(d.lowSpace.checked) {
		d.lowSpace.checked = now
		d.lowSpace.err = nil
		u, err := d.fs.GetDiskUsage(d.dir)
		reserve := uint64(d.opts.ReserveBytes)
		if reserve == 0 {
			reserve = min(DefaultReserveBytes, u.TotalBytes/8)
		}
		if err == nil && u.AvailBytes < reserve {
			d.lowSpace.err = fmt.Errorf("%w: %d bytes free, %d reserved", ErrLowSpace, u.AvailBytes, reserve)
			if d.stats.LowSpaceSince.IsZero() {
				d.stats.LowSpaceSince = now
				d.log.Warn("disk space below the reserve: writes refused until it is freed",
					zap.Uint64("freeBytes", u.AvailBytes), zap.Uint64("reserveBytes", reserve))
			}
		} else if !d.stats.LowSpaceSince.IsZero() {
			d.stats.LowSpaceSince = time.Time{}
			d.log.Info("disk space above the reserve again: writes accepted")
		}
	}
	return d.lowSpace.err
}

// recoverLoop probes a failed store's disk every RetryInterval and reopens
// the database once a probe succeeds.
func (d *DB) recoverLoop() {
	defer close(d.done)
	t := time.NewTicker(d.opts.RetryInterval)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-d.wake:
		case <-t.C:
		}
		d.mu.Lock()
		f := d.fail
		d.mu.Unlock()
		if f == nil {
			continue
		}
		if err := d.probe(); err != nil {
			d.rate.Warn(d.log, "probe", "store still cannot write", zap.Error(err))
			continue
		}
		if err := d.reopen(); err != nil {
			d.rate.Warn(d.log, "reopen", "reopen failed; retrying", zap.Error(err))
			continue
		}
	}
}

// probe writes, syncs and removes a file of probeBytes beside the
// database: the disk has room for Pebble to reopen and write.
func (d *DB) probe() error {
	if err := d.fs.MkdirAll(d.dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", d.dir, err)
	}
	name := d.fs.PathJoin(d.dir, "pebblekv-probe")
	f, err := d.fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("create probe: %w", err)
	}
	defer func() { _ = d.fs.Remove(name) }()
	buf := make([]byte, 64<<10)
	for n := 0; n < probeBytes; n += len(buf) {
		if _, err := f.Write(buf); err != nil {
			_ = f.Close()
			return fmt.Errorf("write probe: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync probe: %w", err)
	}
	return f.Close()
}

// reopen closes the failed database and opens it again (replaying its WAL).
// Writes resume when it opens for writing.
func (d *DB) reopen() error {
	g, err := d.drain()
	if err != nil {
		return err
	}
	if g != nil {
		if err := g.db.Close(); err != nil {
			d.log.Debug("close of the failed database", zap.String("error", err.Error()))
		}
	}
	d.mu.Lock()
	d.fail = nil // a failure while opening sets it again
	d.mu.Unlock()
	ng, err := d.open(time.Now())
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		if d.fail == nil {
			d.fail = &failure{err: err, since: time.Now()}
		}
		return err
	}
	d.cur = ng
	if d.fail != nil {
		return fmt.Errorf("reopened read-only: %w", d.fail.err)
	}
	d.stats.Recoveries++
	d.log.Info("store reopened: writes resume")
	return nil
}

// Stats count a store's failures and refusals.
type Stats struct {
	Failures      uint64    // times the store started refusing writes after an error
	Recoveries    uint64    // reopens after which writes resumed
	RefusedWrites uint64    // writes refused (failed, read-only or low space)
	LowSpaceSince time.Time // zero unless the disk is below the reserve
}

// Health is a store's state for /health.
type Health struct {
	Name     string    `json:"name"`
	Writable bool      `json:"writable"`
	ReadOnly bool      `json:"readOnly,omitempty"`
	Open     bool      `json:"open"`
	Error    string    `json:"error,omitempty"`
	NoSpace  bool      `json:"noSpace,omitempty"`
	Since    time.Time `json:"since,omitzero"`
	Stats    Stats     `json:"-"`
}

// Health returns the store's state. It checks the free space (cached).
func (d *DB) Health() Health {
	now := time.Now()
	spaceErr := d.spaceErr(now)
	d.mu.Lock()
	defer d.mu.Unlock()
	h := Health{Name: d.opts.Name, Open: d.cur != nil, Stats: d.stats}
	if d.cur != nil {
		h.ReadOnly = d.cur.readOnly
	}
	switch {
	case d.fail != nil:
		h.Error, h.Since, h.NoSpace = d.fail.err.Error(), d.fail.since, IsNoSpace(d.fail.err)
	case spaceErr != nil:
		h.Error, h.Since, h.NoSpace = spaceErr.Error(), d.stats.LowSpaceSince, true
	case d.cur == nil:
		h.Error = "not open"
	default:
		h.Writable = !d.closed
	}
	return h
}
