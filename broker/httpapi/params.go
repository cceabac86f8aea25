package httpapi

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	qp "github.com/causeway/causeway/internal/queryparam"
)

// The query parameters each route accepts (route table in server.go).
// Every route, including those mounted with Handle, refuses any other
// parameter, one given twice and a value it cannot read before its
// handler runs: 400 naming it, errorNum 10 (ArangoDB's "bad parameter"),
// so a mistyped or unsupported parameter never turns into a different
// change or a read that means something else.
var (
	pPersistent = qp.Bool("persistent")
	pForce      = qp.Bool("force")

	noParams = qp.New()

	paramsListStreams       = qp.New(qp.Bool("global"))
	paramsCreateStream      = qp.New(pPersistent, qp.Bool("global"), qp.Int("replicas", 1, maxStreamReplicas))
	paramsStream            = qp.New(pPersistent)
	paramsDeleteStream      = qp.New(pPersistent, pForce)
	paramsResetSubscription = qp.New(pPersistent, qp.Text("messageId"), qp.Text("timestamp"))
	paramsSkipSubscription  = qp.New(pPersistent, qp.Int("count", 1, math.MaxInt32))

	// paramsVersion: GET /_api/version?details=true adds a few details.
	// arangojs 10 sends details=undefined when called without the
	// argument (ArangoDB reads every value but true as false): taken as
	// false.
	paramsVersion = qp.New(qp.OneOf("details", "true", "false", "1", "0", "undefined"))
)

// maxStreamReplicas bounds a stream's replication factor (the region
// core's MaxFactor).
const maxStreamReplicas = 7

// errNumBadParameter is ArangoDB's error number for a bad parameter.
const errNumBadParameter = 10

// checked runs the parameter check of params before next.
func checked(params qp.Set, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := params.Check(r.URL.RawQuery); err != nil {
			writeJSON(w, http.StatusBadRequest, envelope{Error: true, Code: http.StatusBadRequest,
				ErrorNum: errNumBadParameter, ErrorMessage: err.Error()})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// boolParam reads a flag the route's check accepted (absent or empty: def).
func boolParam(r *http.Request, name string, def bool) bool {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def // unreachable: the route's check refused it
	}
	return b
}

var errBothPositions = errors.New("give messageId or timestamp, not both")
