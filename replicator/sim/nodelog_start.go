package sim

// Start is 0: a simulated node's copy of the journal keeps every record
// (region.LogView).
func (l *nodeLog) Start() uint64 { return 0 }
