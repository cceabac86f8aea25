//go:build race

package kafka

// raceEnabled is set under the race detector, which adds allocations.
const raceEnabled = true
