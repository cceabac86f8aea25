package httpapi

import "github.com/causeway/causeway/internal/queryparam"

// Route is one entry of the route table, for tests that walk it.
type Route struct {
	Pattern string
	Params  queryparam.Set
}

// Routes returns h's route table.
func Routes(h *Handler) []Route {
	out := make([]Route, len(h.routes))
	for i, rt := range h.routes {
		out[i] = Route{Pattern: rt.pattern, Params: rt.params}
	}
	return out
}
