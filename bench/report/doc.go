// Package report owns the result of one bench run and everything done with
// it after the run: the JSON file (Encode, Decode with validation), the
// table printed on stdout (WriteTable), the ratios between two runs
// (Compare, WriteComparison) and the side-by-side table of one workload run
// against several targets (WritePeers).
//
// It is pure: no clocks, goroutines, network or files; callers pass
// io.Readers and io.Writers. Latencies are stored in microseconds as
// float64, rates per second.
package report
