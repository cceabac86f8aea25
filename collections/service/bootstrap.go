package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/collections/store"
)

// Bootstrap. A region that joins a fabric late, or whose collections were
// wiped, would otherwise rebuild its view by applying every replicated
// payload from the beginning of each origin's log. With
// Options.BootstrapFrom it instead loads another region's snapshot (view
// plus the replicated vector it reflects) before the replication shell
// delivers anything, and skips every payload the snapshot covers: only the
// tail after it is applied. The view records its bootstrap state: "loading"
// while a snapshot is being written (a crash then wipes the view and
// starts over on the next start), "done" after; a view that already holds
// collections is never replaced.

// SnapshotPath is where a node serves its collections snapshot.
const SnapshotPath = "/_api/collections/snapshot"

// Bootstrap states recorded in the view.
const (
	bootstrapLoading = "loading"
	bootstrapDone    = "done"
)

// bootstrapRetry is the pause between rounds over the peers.
const bootstrapRetry = 500 * time.Millisecond

// bootstrapIfNew loads a snapshot into a new view (see above).
func bootstrapIfNew(st *store.Store, cfg broker.Config, opts Options, log *zap.Logger) error {
	if len(opts.BootstrapFrom) == 0 || !cfg.Replicated() {
		return nil
	}
	state, err := st.BootstrapState()
	if err != nil || state == bootstrapDone {
		return err
	}
	if state == "" {
		empty, err := st.Empty()
		if err != nil {
			return err
		}
		if !empty {
			return st.SetBootstrapState(bootstrapDone)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.BootstrapTimeout)
	defer cancel()
	var errs []error
	for {
		for _, base := range opts.BootstrapFrom {
			if err := st.Wipe(); err != nil {
				return err
			}
			if err := st.SetBootstrapState(bootstrapLoading); err != nil {
				return err
			}
			started := time.Now()
			head, end, err := fetchSnapshot(ctx, st, base, cfg.Region, opts.BootstrapToken)
			if err == nil {
				log.Info("collections bootstrapped from a snapshot", zap.String("from", base), zap.String("region", head.Region),
					zap.Int("collections", end.Collections), zap.Int("documents", end.Documents),
					zap.Any("replicated", head.ReplApplied), zap.Duration("took", time.Since(started)))
				return st.SetBootstrapState(bootstrapDone)
			}
			log.Warn("collections snapshot", zap.String("from", base), zap.Error(err))
			errs = append(errs, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("collections: bootstrap from %v: %w", opts.BootstrapFrom, errors.Join(errs...))
		case <-time.After(bootstrapRetry):
		}
	}
}

// fetchSnapshot loads base's snapshot for region self into st.
func fetchSnapshot(ctx context.Context, st *store.Store, base, self, token string) (snapshotHeader, snapshotEnd, error) {
	u := strings.TrimRight(base, "/") + SnapshotPath + "?region=" + url.QueryEscape(self)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return snapshotHeader{}, snapshotEnd{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return snapshotHeader{}, snapshotEnd{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return snapshotHeader{}, snapshotEnd{}, fmt.Errorf("collections: snapshot from %s: status %s", base, resp.Status)
	}
	return loadSnapshot(st, resp.Body)
}
