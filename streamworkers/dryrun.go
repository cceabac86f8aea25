package streamworkers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/causeway/causeway/streamworkers/engine"
)

// DryRunInput is the body of POST .../streamapps/query/dry-run.
type DryRunInput struct {
	Query string `json:"query"`
	// Stream limits the run to one of the query's inputs ("": all of them).
	Stream string `json:"stream"`
	// Last is how many of the newest messages of each input are run
	// (0: DefaultDryRunMessages; at most MaxDryRunMessages).
	Last int `json:"last"`
}

// DryRunRow is one row a dry run made.
type DryRunRow struct {
	Key   string          `json:"key,omitempty"`
	Value json.RawMessage `json:"value"`
}

// DryRunError is one message the query could not process.
type DryRunError struct {
	Stream   string `json:"stream"`
	Position uint64 `json:"position"`
	Error    string `json:"error"`
}

// DryRunResult is what a dry run answers: the rows (nothing is written)
// and the errors, as the worker would make them from those messages.
type DryRunResult struct {
	Output   string        `json:"output"`
	Messages int           `json:"messages"`
	Rows     []DryRunRow   `json:"rows"`
	Errors   []DryRunError `json:"errors"`
}

// maxDryRunBytes bounds what a dry run reads of each input.
const maxDryRunBytes = 32 << 20

func (r *Runner) serveDryRun(w http.ResponseWriter, req *http.Request) {
	tenant, fabric, ok := r.fabric(w, req)
	if !ok {
		return
	}
	var in DryRunInput
	if err := decodeBody(req, &in); err != nil {
		fail(w, err)
		return
	}
	res, err := r.DryRun(tenant, fabric, in)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"error": false, "code": http.StatusOK, "result": res})
}

// DryRun runs a query over the newest messages of its inputs with a fresh
// state and returns what it made; it writes nothing. Lookup joins read the
// collections. At the end the engine is told the time (processing-time
// windows close as they would).
func (r *Runner) DryRun(tenant, fabric string, in DryRunInput) (DryRunResult, error) {
	switch {
	case in.Query == "":
		return DryRunResult{}, fmt.Errorf("%w: the query is missing", ErrBadRequest)
	case len(in.Query) > maxQueryBytes:
		return DryRunResult{}, fmt.Errorf("%w: a query of %d bytes, the limit is %d", ErrBadRequest, len(in.Query), maxQueryBytes)
	case in.Last < 0 || in.Last > MaxDryRunMessages:
		return DryRunResult{}, fmt.Errorf("%w: last %d: want 1 to %d", ErrBadRequest, in.Last, MaxDryRunMessages)
	case in.Last == 0:
		in.Last = DefaultDryRunMessages
	}
	plan, err := engine.Compile(in.Query, r.catalog(tenant, fabric))
	if err != nil {
		return DryRunResult{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	inputs := plan.Inputs
	if in.Stream != "" {
		if !slices.Contains(plan.Inputs, in.Stream) {
			return DryRunResult{}, fmt.Errorf("%w: stream %q is not an input of the query (%v)", ErrBadRequest, in.Stream, plan.Inputs)
		}
		inputs = []string{in.Stream}
	}
	d := r.opts.effective(LimitsSpec{})
	eng, err := plan.NewWorker(nil, lookup{cols: r.cols, tenant: tenant, fabric: fabric}, engine.Limits{MaxStateBytes: d.MaxStateBytes, MaxWindows: d.MaxWindows})
	if err != nil {
		return DryRunResult{}, fmt.Errorf("streamworkers: dry run: %w", err)
	}
	var evs []engine.Event
	id := workerID{Tenant: tenant, Fabric: fabric, Name: "dry-run"}
	for _, name := range inputs {
		st, err := r.node.Stream((&worker{id: id}).inputName(name))
		if err != nil {
			return DryRunResult{}, fmt.Errorf("%w: input stream %s: %w", ErrBadRequest, name, err)
		}
		src := st.Source()
		end := src.EndOffset()
		from := max(src.StartOffset(), end-min(end, uint64(in.Last)))
		for from < end {
			recs, err := src.Read(from, in.Last, maxDryRunBytes)
			if err != nil {
				return DryRunResult{}, fmt.Errorf("streamworkers: dry run: reading %s at %d: %w", name, from, err)
			}
			if len(recs) == 0 {
				break
			}
			for _, rec := range recs {
				if rec.Offset >= from && rec.Offset < end {
					evs = append(evs, engine.Event{Stream: name, Position: rec.Offset, Key: rec.Key, Payload: rec.Payload,
						Properties: rec.Properties, Time: time.UnixMilli(rec.PublishTime).UTC()})
				}
			}
			from = recs[len(recs)-1].Offset + 1
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	output := "none"
	if plan.Output.Name != "" {
		output = plan.Output.Kind.String() + " " + plan.Output.Name
	}
	res := DryRunResult{Output: output, Messages: len(evs), Rows: []DryRunRow{}, Errors: []DryRunError{}}
	add := func(rows []engine.Row, errs []engine.EventError) {
		for _, row := range rows {
			v := json.RawMessage(row.Value)
			if !json.Valid(v) {
				v, _ = json.Marshal(string(row.Value)) // shown, never sent
			}
			res.Rows = append(res.Rows, DryRunRow{Key: row.Key, Value: v})
		}
		for _, e := range errs {
			res.Errors = append(res.Errors, DryRunError{Stream: e.Event.Stream, Position: e.Event.Position, Error: e.Err.Error()})
		}
	}
	for _, ev := range evs {
		add(eng.Process(ev))
	}
	out := eng.Advance(r.opts.Now())
	add(out, eng.AdvanceErrors())
	return res, nil
}
