package web

import "net/http"

// recordRoutes lists the pages of what happened and who reaches what: an
// account's sign-in history and audit log, the list of accounts, and
// break-glass.
func (s *server) recordRoutes(mux *http.ServeMux) {}
