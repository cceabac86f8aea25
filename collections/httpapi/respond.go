package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// writeJSON writes v (no HTML escaping) with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":true,"code":500,"errorNum":4,"errorMessage":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorBody is ArangoDB's error envelope.
type errorBody struct {
	Error        bool   `json:"error"`
	Code         int    `json:"code"`
	ErrorNum     int    `json:"errorNum"`
	ErrorMessage string `json:"errorMessage"`
}

// fail answers err with its status and error number.
func fail(w http.ResponseWriter, err error) {
	status, num := codes(err)
	writeJSON(w, status, errorBody{Error: true, Code: status, ErrorNum: num, ErrorMessage: err.Error()})
}

// result answers {"error":false,"code":status,"result":v}.
func result(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, map[string]any{"error": false, "code": status, "result": v})
}

// withCode answers the fields of v (a JSON object) plus error and code,
// as ArangoDB's collection endpoints do.
func withCode(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(w, err)
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		fail(w, err)
		return
	}
	m["error"] = json.RawMessage("false")
	m["code"] = json.RawMessage(strconv.Itoa(status))
	writeJSON(w, status, m)
}
