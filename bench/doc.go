// Package bench will own the load generator (`causeway bench`) and its
// reports: HDR-histogram latencies, throughput, progress and comparisons.
// Nothing is implemented yet; see the bench issue.
package bench
