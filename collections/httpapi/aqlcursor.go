package httpapi

import (
	"fmt"
	"net/http"

	"github.com/causeway/causeway/collections/aql"
	"github.com/causeway/causeway/collections/service"
)

// The query language of POST /_api/cursor and /_api/explain is decided by
// the text (aql.IsAQL): AQL when its first word is an AQL statement keyword
// (FOR, LET, RETURN, INSERT, UPDATE, REPLACE, REMOVE, UPSERT, WITH,
// COLLECT), SQL otherwise (SELECT).

// cursorOptionsInput reads ArangoDB's "count" and "options" of a cursor
// request. Options the node acts on: fullCount; accepted and moot (they
// tune ArangoDB's own engine): the others listed. Any other is refused.
func cursorOptionsInput(body any) (service.CursorOptions, error) {
	obj, _ := body.(map[string]any)
	var co service.CursorOptions
	if v, ok := obj["count"]; ok && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return co, fmt.Errorf("%w: count must be a boolean", service.ErrBadRequest)
		}
		co.Count = b
	}
	opts, ok := obj["options"]
	if !ok || opts == nil {
		return co, nil
	}
	m, ok := opts.(map[string]any)
	if !ok {
		return co, fmt.Errorf("%w: options must be an object", service.ErrBadRequest)
	}
	for name, v := range m {
		switch name {
		case "fullCount":
			b, isBool := v.(bool)
			if !isBool {
				return co, fmt.Errorf("%w: options.fullCount must be a boolean", service.ErrBadRequest)
			}
			co.FullCount = b
		case "allowRetry", "stream", "profile", "optimizer", "maxPlans", "maxRuntime", "maxWarningCount",
			"satelliteSyncWait", "fillBlockCache", "intermediateCommitSize", "intermediateCommitCount",
			"skipInaccessibleCollections", "maxTransactionSize", "maxNodesPerCallstack", "spillOverThresholdNumRows",
			"spillOverThresholdMemoryUsage", "maxDNFConditionMembers", "usePlanCache", "allowDirtyReads", "forceOneShardAttributeValue":
			// Accepted, not acted on: every batch of a cursor can be fetched
			// again (allowRetry), results are produced as they are read.
		default:
			return co, fmt.Errorf("%w: unknown cursor option %q (the node acts on fullCount)", service.ErrBadRequest, name)
		}
	}
	return co, nil
}

// failQuery answers AQL errors with their own numbers, others as fail.
func failQuery(w http.ResponseWriter, err error) {
	if status, num, ok := aql.Codes(err); ok {
		writeJSON(w, status, errorBody{Error: true, Code: status, ErrorNum: num, ErrorMessage: err.Error()})
		return
	}
	fail(w, err)
}

// nextBatchAt is POST /_api/cursor/{id}/{batchId}: the next batch by its
// nextBatchId, or the last one again.
func (h *Handler) nextBatchAt(w http.ResponseWriter, r *http.Request) {
	b, err := h.svc.NextBatchAt(tenant(r), fabric(r), r.PathValue("id"), r.PathValue("batchId"))
	if err != nil {
		failQuery(w, err)
		return
	}
	respondBatch(w, http.StatusOK, b)
}

// explainAQL answers /_api/explain for AQL: ArangoDB's {"plan": {...}}
// with the nodes and, on each FOR over a collection, the access path.
func (h *Handler) explainAQL(w http.ResponseWriter, r *http.Request, in cursorInput) {
	if len(in.params.Positional) > 0 {
		fail(w, fmt.Errorf("%w: AQL takes bindVars as an object", service.ErrBadRequest))
		return
	}
	plan, err := h.svc.ExplainAQL(tenant(r), fabric(r), in.query, in.params.Named)
	if err != nil {
		failQuery(w, err)
		return
	}
	withCode(w, http.StatusOK, map[string]any{"plan": plan, "warnings": []any{}, "cacheable": false})
}
