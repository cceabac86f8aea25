package subscription

// Stats is a snapshot of a subscription.
type Stats struct {
	Name         string
	Type         Type
	MarkDelete   uint64 // first offset not known to be acknowledged
	ReadPosition uint64 // next offset never dispatched
	End          uint64 // one past the log's last offset
	// Backlog counts messages between the mark-delete position and the end
	// of the log, minus the individually acknowledged ones.
	Backlog     uint64
	AckedRanges int // individually acknowledged ranges above MarkDelete
	// RedeliveryQueue counts messages waiting for redelivery (ready, delayed
	// by a nack, or being dead-lettered).
	RedeliveryQueue int
	Consumers       []ConsumerStats
}

// ConsumerStats describes one attached consumer.
type ConsumerStats struct {
	ID       ConsumerID
	Name     string
	Priority int
	Active   bool // receives messages (always true on shared subscriptions)
	Permits  int
	Unacked  int
}

// Stats returns a snapshot.
func (d *Dispatcher) Stats() Stats {
	st := Stats{
		Name:         d.name,
		Type:         d.typ,
		MarkDelete:   d.markDelete,
		ReadPosition: d.readPos,
		End:          d.end,
		AckedRanges:  len(d.acked.rs),
	}
	if d.end > d.markDelete {
		st.Backlog = d.end - d.markDelete - d.acked.countIn(d.markDelete, d.end)
	}
	for _, m := range d.msgs {
		if m.loc != locOutstanding {
			st.RedeliveryQueue++
		}
	}
	for _, c := range d.order {
		st.Consumers = append(st.Consumers, ConsumerStats{
			ID:       c.id,
			Name:     c.cfg.Name,
			Priority: c.cfg.Priority,
			Active:   d.multi() || d.active == c,
			Permits:  c.permits,
			Unacked:  len(c.out),
		})
	}
	return st
}
