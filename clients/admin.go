package clients

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// CreateStream creates a stream through the HTTP admin API; global streams
// are replicated to every region of the fabric. A stream that already exists
// is reported as the server reports it (a *RefusedError, 409).
func (c *Client) CreateStream(ctx context.Context, stream string, global bool) error {
	s, err := c.resolve(stream)
	if err != nil {
		return err
	}
	u := streamAdminURL(c.httpBase, s, global)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return fmt.Errorf("clients: create stream %s: %w", s, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return fmt.Errorf("clients: create stream %s: %w", s, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	if resp.StatusCode/100 != 2 {
		return refused("create stream "+s.String(), resp.StatusCode, body, ErrRefused)
	}
	return nil
}
