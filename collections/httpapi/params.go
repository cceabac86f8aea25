package httpapi

import (
	"math"
	"net/http"

	qp "github.com/causeway/causeway/internal/queryparam"
)

// The query parameters each route accepts (route table in handler.go).
// Every route refuses any other parameter, one given twice and a value it
// cannot read, before its handler runs (400, errorNum 10, naming it): a
// mistyped or unsupported option never turns into a different write or a
// read that means something else. The names and meanings are ArangoDB's.
//
// Accepted but not acted on, deliberately:
//   - waitForSync: every write is durable as the node's fsync policy says
//     (default: fsynced before the answer), whatever the request asks;
//   - refillIndexCaches: there are no in-memory index caches to refill;
//   - waitForSyncReplication, enforceReplicationFactor (collection
//     creation): there are no synchronous replicas to wait for; other
//     regions receive the collection asynchronously;
//   - compact (truncate): op logs are compacted by themselves;
//   - isSystem (drop): system collections are not protected from drops;
//   - withHidden (index list): there are no hidden indexes;
//   - expiration (key/value creation): key/value collections always
//     expire entries that have an expiry.
//
// isRestore is accepted only as false: restoring documents with their own
// _rev is not implemented, and ignoring it would change the write.
var (
	pWaitForSync       = qp.Bool("waitForSync")
	pRefillIndexCaches = qp.Bool("refillIndexCaches")
	pReturnNew         = qp.Bool("returnNew")
	pReturnOld         = qp.Bool("returnOld")
	pSilent            = qp.Bool("silent")
	pIgnoreRevs        = qp.Bool("ignoreRevs")
	pKeepNull          = qp.Bool("keepNull")
	pMergeObjects      = qp.Bool("mergeObjects")

	noParams = qp.New()

	// paramsSnapshot names the region a snapshot is for (snapshot.go).
	paramsSnapshot = qp.New(qp.Text("region"))

	// paramsRead is the batch read PUT /document/{collection}?onlyget=true.
	paramsRead = qp.New(qp.Bool("onlyget"), pIgnoreRevs)

	paramsInsert = qp.New(pWaitForSync, pRefillIndexCaches, pReturnNew, pReturnOld, pSilent, pIgnoreRevs,
		pKeepNull, pMergeObjects, qp.Bool("overwrite"),
		qp.OneOf("overwriteMode", "conflict", "replace", "update", "ignore"),
		qp.Only("isRestore", "false", "restoring documents with their own _rev is not supported"))
	paramsReplace     = qp.New(pWaitForSync, pRefillIndexCaches, pReturnNew, pReturnOld, pSilent, pIgnoreRevs)
	paramsReplaceMany = paramsReplace.With(qp.Bool("onlyget"))
	paramsUpdate      = paramsReplace.With(pKeepNull, pMergeObjects)
	paramsDeleteMany  = qp.New(pWaitForSync, pRefillIndexCaches, pReturnOld, pSilent, pIgnoreRevs)
	paramsDeleteOne   = qp.New(pWaitForSync, pRefillIndexCaches, pReturnOld, pSilent)

	paramsCreateCollection = qp.New(qp.Bool("waitForSyncReplication"), qp.Bool("enforceReplicationFactor"))
	paramsListCollections  = qp.New(qp.Bool("excludeSystem"))
	paramsTruncate         = qp.New(pWaitForSync, qp.Bool("compact"))
	paramsDropCollection   = qp.New(qp.Bool("isSystem"))

	paramsCreateKV = qp.New(qp.Bool("expiration"))
	paramsListKV   = qp.New(qp.Int("offset", 0, math.MaxInt32), qp.Int("limit", 0, math.MaxInt32),
		qp.Int("batchSize", 0, math.MaxInt32))

	// paramsImport: POST /import (import.go). overwrite=true would
	// truncate the collection first: refused rather than ignored.
	paramsImport = qp.New(qp.Text("collection"), qp.OneOf("type", "documents", "list", "array", "auto"),
		qp.OneOf("onDuplicate", "error", "update", "replace", "ignore"), qp.Bool("complete"), qp.Bool("details"),
		pWaitForSync, qp.Text("fromPrefix"), qp.Text("toPrefix"),
		qp.Only("overwrite", "false", "truncating the collection first is not supported: truncate it with PUT .../collection/{name}/truncate"))
	paramsFigures  = qp.New(qp.Bool("details"))
	paramsChecksum = qp.New(qp.Bool("withRevisions"), qp.Bool("withData"))

	paramsCreateIndex = qp.New(qp.Text("collection"))
	paramsListIndexes = qp.New(qp.Text("collection"), qp.Bool("withHidden"))
)

// route is one entry of the handler's table: a ServeMux pattern, the query
// parameters it accepts, and its handler.
type route struct {
	pattern string
	params  qp.Set
	fn      http.HandlerFunc
}

// checked runs the parameter check of rt before its handler, and in a
// region of several nodes sends the request where locate says it is
// served (nil: here).
func (h *Handler) checked(rt route, locate locator) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := rt.params.Check(r.URL.RawQuery); err != nil {
			fail(w, err)
			return
		}
		if !h.located(w, r, locate) {
			return
		}
		rt.fn(w, r)
	}
}
