package shell

import (
	"time"

	"go.uber.org/zap"
)

// Pausing. A geo-fabric's domain for a new version of its region list
// starts paused (Domain.Paused) in a region that has not applied all of the
// fabric's previous version yet, or that waits for the fabric's backfill:
// it receives, journals and acknowledges ops as usual (peers neither back
// off nor resend, and nothing is lost on a crash) but applies nothing, so
// the applied watermark stays where it is, and it holds local publishes.
// Resume applies the journal tails past the watermark in causal order, as
// a restart does, then the held publishes. A shell only goes from paused
// to running.

// resumeDrainWait bounds how long Resume waits for the steps in flight on
// one try.
const resumeDrainWait = 2 * time.Second

// Paused reports whether applying is paused.
func (s *Shell) Paused() bool { return s.paused.Load() }

// Resume asks the shell to resume applying (idempotent); the loop does it
// within a tick.
func (s *Shell) Resume() { s.resumeWanted.Store(true) }

// tryResume resumes applying once asked (loop goroutine).
func (s *Shell) tryResume() {
	if !s.resumeWanted.Load() || !s.paused.Load() || s.failed.Load() != nil || s.stopping() {
		return
	}
	// The loop makes the steps: none starts while it waits here.
	for start := time.Now(); s.stepsInFlight.Load() > 0; time.Sleep(time.Millisecond) {
		if time.Since(start) > resumeDrainWait {
			return
		}
	}
	s.applies.Wait()
	s.paused.Store(false)
	if err := s.rebuild(time.Now()); err != nil {
		s.paused.Store(true)
		s.logRate.Warn(s.log, "resume", "re-applying the journals to resume failed; retrying", zap.Error(err))
		return
	}
	s.log.Info("applying resumed", zap.Int("heldPublishes", len(s.held)), zap.Uint64("reapplied", s.m.restoredOps.Load()))
	s.releaseHeld()
}
