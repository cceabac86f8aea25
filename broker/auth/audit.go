package auth

import (
	"context"
	"net/http"
	"sync"

	"go.uber.org/zap"
)

// auditNote lets a handler add details (the id of a created key) to the
// audit record of its request.
type auditNote struct {
	mu     sync.Mutex
	fields []zap.Field
}

type auditNoteKey struct{}

// Annotate adds fields to the audit record of the request ctx belongs to
// (a no-op for a request that is not audited).
func Annotate(ctx context.Context, fields ...zap.Field) {
	if n, ok := ctx.Value(auditNoteKey{}).(*auditNote); ok {
		n.mu.Lock()
		n.fields = append(n.fields, fields...)
		n.mu.Unlock()
	}
}

// record writes one audit record: who did what to which resource of which
// tenant, when, from where, and how it ended (the HTTP status).
func (s *Service) record(r *http.Request, a Access, p *Principal, tenant string, code int, note *auditNote) {
	who := "anonymous"
	if p != nil {
		who = p.ID
	}
	fields := []zap.Field{
		zap.String("who", who), zap.String("action", a.Audit), zap.String("tenant", tenant),
		zap.String("target", a.Target), zap.String("method", r.Method), zap.Int("status", code),
		zap.Bool("ok", code < 400), zap.String("remote", r.RemoteAddr), zap.Time("at", s.now()),
	}
	if note != nil {
		note.mu.Lock()
		fields = append(fields, note.fields...)
		note.mu.Unlock()
	}
	s.metrics.AuditRecords.Add(1)
	s.audit.Info("admin action", fields...)
}
