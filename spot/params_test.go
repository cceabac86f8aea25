package spot

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestReadsRefuseAMistypedConsistency: a read whose consistency parameter
// or header is mistyped, or that names a parameter SPOT routes do not
// take, is a 400 naming it; it used to be answered from the possibly
// stale copy with 200.
func TestReadsRefuseAMistypedConsistency(t *testing.T) {
	feed := &recordedFeed{}
	home := startNode(t, testConfig(t, "us", 1), Options{Feed: feed})
	away := startNode(t, Config{Region: "eu", Regions: map[string][]string{"us": {home.url()}}}, Options{Mirror: feed})
	createAccounts(t, home.svc)
	if _, err := home.svc.Insert(ctxT(t), accounts, "a", json.RawMessage(`{"n":1}`), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	feed.show(1)
	doc := away.url() + "/_fabric/_system/_api/document/accounts/a"
	for _, tc := range []struct {
		query, header string
		status        int
		how           string
	}{
		{"", "", 200, "possibly-stale"},
		{"?consistency=strong", "", 200, "strong"},
		{"?consistency=possibly-stale", "", 200, "possibly-stale"},
		{"", "strong", 200, "strong"},
		{"?consistency=stong", "", 400, ""},
		{"?consistency=Strong", "", 400, ""},
		{"?consistancy=strong", "", 400, ""},
		{"?consistency=strong&consistency=possibly-stale", "", 400, ""},
		{"", "stong", 400, ""},
		{"?returnNew=true", "", 400, ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, doc+tc.query, nil)
		if tc.header != "" {
			req.Header.Set(headerConsistency, tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			ErrorNum     int    `json:"errorNum"`
			ErrorMessage string `json:"errorMessage"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.how != "" && resp.Header.Get(headerConsistency) != tc.how) ||
			(tc.status == 400 && body.ErrorNum != errNumBadParameter) {
			t.Errorf("GET%s (header %q): %d %s %+v, want %d %s", tc.query, tc.header, resp.StatusCode,
				resp.Header.Get(headerConsistency), body, tc.status, tc.how)
		}
	}
}
