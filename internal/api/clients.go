package api

import (
	"net/http"

	"gatehouse"
	"gatehouse/internal/admin"
)

// clientWithSecret is a client as its creation or a secret rotation
// answers it: with the client secret, shown this once, when it has a new
// one. No other answer carries a secret.
type clientWithSecret struct {
	gatehouse.Client
	ClientSecret string `json:"client_secret,omitempty"`
}

func handleClientList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := admin.MayManageClients(who); err != nil {
			return err
		}
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.admin.Clients(r.Context(), who, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(c gatehouse.Client) string { return c.ID }))
		return nil
	}
}

func handleClientCreate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := admin.MayManageClients(who); err != nil {
			return err
		}
		var req admin.ClientInput
		if err := decode(w, r, &req); err != nil {
			return err
		}
		c, secret, err := s.admin.CreateClient(r.Context(), who, req)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/clients/"+c.ID)
		writeJSON(w, http.StatusCreated, clientWithSecret{Client: c, ClientSecret: secret})
		return nil
	}
}

func handleClientGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		c, err := s.admin.Client(r.Context(), who, r.PathValue("client_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, c)
		return nil
	}
}

func handleClientUpdate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		id := r.PathValue("client_id")
		if _, err := s.admin.Client(r.Context(), who, id); err != nil {
			return err
		}
		var req admin.ClientUpdate
		if err := decode(w, r, &req); err != nil {
			return err
		}
		c, err := s.admin.UpdateClient(r.Context(), who, id, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, c)
		return nil
	}
}

func handleClientRotateSecret(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		c, secret, err := s.admin.RotateClientSecret(r.Context(), who, r.PathValue("client_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, clientWithSecret{Client: c, ClientSecret: secret})
		return nil
	}
}

func handleClientDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := s.admin.DeleteClient(r.Context(), who, r.PathValue("client_id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
