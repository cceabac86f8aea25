//go:build race

package collections

// raceEnabled: the race detector slows the property tests about tenfold, so
// they run fewer seeds under it.
const raceEnabled = true
