package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/causeway/causeway/broker"
)

type envelope struct {
	Error        bool   `json:"error"`
	Code         int    `json:"code"`
	ErrorNum     int    `json:"errorNum,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Result       any    `json:"result,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func ok(w http.ResponseWriter, code int, result any) {
	writeJSON(w, code, envelope{Code: code, Result: result})
}

func fail(w http.ResponseWriter, err error) {
	code := broker.HTTPStatus(err)
	writeJSON(w, code, envelope{Error: true, Code: code, ErrorNum: code, ErrorMessage: err.Error()})
}
