package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route in routes.go.
//
//go:embed openapi.json
var openAPIDocument []byte

// handleOpenAPI serves the OpenAPI document. It needs no token: it describes
// the API, not anyone's data.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(openAPIDocument)
	})
}
