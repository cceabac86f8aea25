package clients

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
)

// parseBaseURL accepts http, https, ws and wss URLs with a host and an
// optional path prefix, and returns the HTTP and WebSocket forms.
func parseBaseURL(raw string) (httpBase, wsBase *url.URL, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: base URL %q: %w", ErrInvalidArgument, raw, err)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, nil, fmt.Errorf("%w: base URL %q: want scheme://host:port with no user, query or fragment", ErrInvalidArgument, raw)
	}
	h, w := *u, *u
	switch u.Scheme {
	case "http", "ws":
		h.Scheme, w.Scheme = "http", "ws"
	case "https", "wss":
		h.Scheme, w.Scheme = "https", "wss"
	default:
		return nil, nil, fmt.Errorf("%w: base URL %q: scheme must be http, https, ws or wss", ErrInvalidArgument, raw)
	}
	h.Path = strings.TrimSuffix(u.Path, "/")
	w.Path = h.Path
	h.RawPath, w.RawPath = "", ""
	return &h, &w, nil
}

// resolveStream parses a bare name (given tenant and fabric),
// "tenant/fabric/stream", or "persistent://tenant/fabric/stream".
func resolveStream(name, tenant, fabric string) (naming.Stream, error) {
	if strings.Contains(name, "/") {
		return naming.ParseStream(name)
	}
	s := naming.Stream{Persistent: true, Tenant: tenant, Fabric: fabric, Name: name}
	return s, s.Validate()
}

// endpoint joins a WebSocket path and query onto the base.
func endpoint(base *url.URL, path string, q url.Values) string {
	u := *base
	u.Path = base.Path + path
	u.RawQuery = q.Encode()
	return u.String()
}

// setProtocol asks for causeway-binary-v1 when binary is set.
func setProtocol(q url.Values, binary bool) {
	if binary {
		q.Set(wsbin.ProtocolParam, wsbin.Protocol)
	}
}

// producerURL is the v2 producer endpoint. lastSequenceID, when positive,
// is the highest sequence id known to be stored under this producer name.
func producerURL(base *url.URL, s naming.Stream, name string, lastSequenceID int64, binary bool) string {
	q := url.Values{}
	setProtocol(q, binary)
	q.Set("producerName", name)
	if lastSequenceID > 0 {
		q.Set("initialSequenceId", strconv.FormatInt(lastSequenceID, 10))
	}
	return endpoint(base, wsproto.ProducerPath(s), q)
}

// consumerURL is the v2 consumer endpoint for one stream, or the v3
// multi-stream endpoint for several. o must be validated.
func consumerURL(base *url.URL, streams []naming.Stream, deadLetter string, o ConsumerOptions, binary bool) string {
	q := url.Values{}
	setProtocol(q, binary)
	q.Set("subscriptionType", string(o.Type))
	q.Set("subscriptionInitialPosition", string(o.InitialPosition))
	q.Set("receiverQueueSize", strconv.Itoa(o.ReceiverQueueSize))
	q.Set("pullMode", strconv.FormatBool(o.PullMode))
	if o.ConsumerName != "" {
		q.Set("consumerName", o.ConsumerName)
	}
	if o.PriorityLevel != 0 {
		q.Set("priorityLevel", strconv.Itoa(o.PriorityLevel))
	}
	if o.AckTimeout > 0 {
		q.Set("ackTimeoutMillis", strconv.FormatInt(o.AckTimeout.Milliseconds(), 10))
	}
	if o.NackDelay > 0 {
		q.Set("negativeAckRedeliveryDelay", strconv.FormatInt(o.NackDelay.Milliseconds(), 10))
	}
	if o.MaxRedeliverCount > 0 {
		q.Set("maxRedeliverCount", strconv.Itoa(o.MaxRedeliverCount))
	}
	if deadLetter != "" {
		q.Set("deadLetterTopic", deadLetter)
	}
	if len(streams) == 1 {
		return endpoint(base, wsproto.ConsumerPath(streams[0], o.Subscription), q)
	}
	names := make([]string, len(streams))
	for i, s := range streams {
		names[i] = s.String()
	}
	q.Set("topics", strings.Join(names, ","))
	return endpoint(base, wsproto.MultiConsumerPath(o.Subscription), q)
}

// readerURL is the v2 reader endpoint starting at start ("earliest",
// "latest" or an encoded message id).
func readerURL(base *url.URL, s naming.Stream, start string, receiverQueueSize int, binary bool) string {
	q := url.Values{}
	setProtocol(q, binary)
	q.Set("messageId", start)
	q.Set("receiverQueueSize", strconv.Itoa(receiverQueueSize))
	return endpoint(base, wsproto.ReaderPath(s), q)
}

// streamAdminURL is the HTTP endpoint that creates (POST) a stream. The
// tenant prefix is written only for tenants other than the default one.
func streamAdminURL(base *url.URL, s naming.Stream, global bool) string {
	p := "/_fabric/" + s.Fabric + "/_api/streams/" + s.Name
	if s.Tenant != naming.DefaultTenant {
		p = "/_tenant/" + s.Tenant + p
	}
	q := url.Values{}
	q.Set("global", strconv.FormatBool(global))
	return endpoint(base, p, q)
}
