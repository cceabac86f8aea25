// Package lograte keeps a repeated log line from flooding the log: a
// Limiter lets the first occurrence of a key through, then at most one line
// per interval for that key, carrying how many were held back since the
// last one. A full disk refuses thousands of writes a second; the log gets
// one line a key every few seconds with the count, and the counts go to
// the metrics.
package lograte
