package web

import (
	"context"
	"net/http"

	"gatehouse"
)

// exemptionRoutes lists the pages of an account's exemption lists.
func (s *server) exemptionRoutes(mux *http.ServeMux) {}

// exemptionSection is what the Authentication page's Exemptions section
// (the "exemptions-section" template) shows for account a.
func (s *server) exemptionSection(ctx context.Context, c adminCaller, a gatehouse.Account) (any, error) {
	return nil, nil
}
