package spot

import (
	"fmt"
	"math"
	"net/http"

	qp "github.com/causeway/causeway/internal/queryparam"
)

// The query parameters each SPOT route accepts (internal/queryparam, as
// every HTTP front end of the node): any other, a repeated one or a value
// the route cannot read is refused (400 naming it) before the handler
// runs. A read with a mistyped consistency (parameter or header) answered
// possibly-stale data with 200. waitForSync is accepted and needs nothing:
// every SPOT write is committed by the Raft group before it is answered.
var (
	pConsistency = qp.OneOf("consistency", "strong", "possibly-stale")

	noParams     = qp.New()
	paramsRead   = qp.New(pConsistency)
	paramsWrite  = qp.New(qp.Bool("returnNew"), qp.Bool("waitForSync"))
	paramsUpdate = paramsWrite.With(qp.Bool("keepNull"), qp.Bool("mergeObjects"))
	paramsDelete = qp.New(qp.Bool("waitForSync"))
	paramsList   = qp.New(qp.Text("homeRegion"))
	paramsDocs   = qp.New(qp.Text("after"), qp.Int("limit", 0, math.MaxInt32))
	paramsDrop   = qp.New(qp.Bool("isSystem"))
)

// checked runs the parameter check of params (and, for reads, of the
// consistency header) before fn.
func checked(params qp.Set, fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := params.Check(r.URL.RawQuery); err != nil {
			fail(w, fmt.Errorf("%w: %w", ErrBadRequest, err))
			return
		}
		if params.Has("consistency") {
			switch c := r.Header.Get(headerConsistency); c {
			case "", "strong", "possibly-stale":
			default:
				fail(w, fmt.Errorf("%w: header %s: %q: want strong or possibly-stale", ErrBadRequest, headerConsistency, c))
				return
			}
		}
		fn(w, r)
	}
}
