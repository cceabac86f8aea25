package clients

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// CreateStream creates a stream through the HTTP admin API; global streams
// are replicated to every region of the fabric. A stream that already exists
// is reported as the server reports it (a *RefusedError, 409). With several
// base URLs, a node that cannot be reached or answers 5xx is followed by
// the next one (each tried once).
func (c *Client) CreateStream(ctx context.Context, stream string, global bool) error {
	s, err := c.resolve(stream)
	if err != nil {
		return err
	}
	op := "create stream " + s.String()
	rot := newRotation(len(c.bases), int(c.preferred.Load()))
	var errs []error
	for range c.bases {
		err := c.createStream(ctx, op, streamAdminURL(c.bases[rot.current()].http, s, global))
		if err == nil {
			c.preferred.Store(int32(rot.current()))
			return nil
		}
		if ctx.Err() != nil || !retriable(err) {
			return err
		}
		errs = append(errs, err)
		rot.advance()
	}
	return allFailed(errs)
}

// createStream sends one creation request to u.
func (c *Client) createStream(ctx context.Context, op, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return fmt.Errorf("clients: %s: %w", op, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return fmt.Errorf("clients: %s: %w", op, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	if resp.StatusCode/100 != 2 {
		return refused(op, resp.StatusCode, body, ErrRefused)
	}
	return nil
}
