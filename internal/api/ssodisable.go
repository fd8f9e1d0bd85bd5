package api

import (
	"bufio"
	"errors"
	"io"
	"net/http"

	"gatehouse/internal/admin"
)

// handleSSOConfigDisable turns a configuration off, with the optional
// reason of a JSON body; a request without a body gives none.
func handleSSOConfigDisable(s *server, ownerOf ssoOwnerOf) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		o, id := ownerOf(r), r.PathValue("config_id")
		// Out of reach answers 404 before the body is read.
		if err := s.admin.Reach(r.Context(), who, o, id); err != nil {
			return err
		}
		var req admin.DisableInput
		if err := decodeOptional(w, r, &req); err != nil {
			return err
		}
		v, err := s.admin.DisableSSOConfig(r.Context(), who, o, id, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// handleSSOConfigUndoDisable turns a configuration an admin turned off
// back on, without a new Test, within admin.DisableUndoWindow.
func handleSSOConfigUndoDisable(s *server, ownerOf ssoOwnerOf) apiHandler {
	return handleSSOConfigAction(ownerOf, s.admin.UndoDisableSSOConfig)
}

// decodeOptional is decode for a body the client may leave out: a request
// without one (no bytes at all) leaves dst as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, dst any) error {
	body := bufio.NewReader(r.Body)
	if _, err := body.Peek(1); errors.Is(err, io.EOF) {
		return nil
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{body, r.Body}
	return decode(w, r, dst)
}
