// Package bench owns the measuring core of the load generator run as
// `causeway bench`: latency histograms (HDR, microsecond resolution), the
// recorder that keeps the warm-up out of the figures and follows latency
// over time, fixed-rate schedules that correct for coordinated omission,
// the client's own CPU use, the live progress line, and the assembly of a
// report.Report.
//
// Coordinated omission: at a fixed rate every operation has an intended
// start time (Schedule.At), and its latency is measured from that time, not
// from the moment the client got round to sending it. A stalled target
// therefore shows up in the figures as the queue of operations that should
// have been sent, as wrk2 and HdrHistogram's author recommend; recording
// with RecordCorrectedValue is not used. At the maximum rate there is no
// intended time and latency is measured from the send. Because lateness of
// the sender itself would count too, Pace sleeps on a timerfd for the last
// stretch before each intended time (waiter.go): Go's timers fire up to a
// millisecond late in an idle process.
//
// Scenarios live in sub-packages (pubsub, geo, collections, spot); the
// targets the pubsub workload drives (Causeway over WebSocket, Kafka
// clients, NATS JetStream, Redis Streams) live under target/. report/
// holds the pure result format, tables and comparisons; plot/ draws a
// report as a PNG.
//
// Histogram, Recorder and Schedule take every time as an argument: they
// hold no clock and start no goroutine. Progress and the CPU sampler are
// the thin shells that do.
package bench
