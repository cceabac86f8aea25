package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// apiVersions lists the API keys and versions served.
func (c *conn) apiVersions(req *kmsg.ApiVersionsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = apiVersionKeys()
	return resp
}

// apiVersionsUnsupported answers an ApiVersions request of a version above
// the ones served the way Kafka does: a v0 response with
// UNSUPPORTED_VERSION and the versions served, from which the client picks
// one and asks again.
func (c *conn) apiVersionsUnsupported(req request) kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = apiVersionKeys()
	return resp
}
