package shell

import "errors"

// ErrApplyLater is what an apply function of a registered kind returns
// (wrapped) for an op it cannot apply now but will be able to later: the
// service it feeds is not ready on this node yet (a collection still
// opening after its lead moved here, a store refusing writes). The shell
// treats it as a storage failure: it keeps the applied watermark below the
// op (the op's step does not count as applied), refuses publishes, and
// heal re-applies the journal tails past the watermark once a probe write
// succeeds (a restart or the next activation does the same). The apply
// function must not record such an op as applied; every op re-applied
// after it must be idempotent, as always.
var ErrApplyLater = errors.New("shell: op not applied yet, re-applied from the journal")

// applyLater reports an apply error the shell recovers from by applying
// the op again from its journal.
func applyLater(err error) bool {
	return storageFull(err) || errors.Is(err, ErrApplyLater)
}
