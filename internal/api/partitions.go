package api

import (
	"net/http"

	"gatehouse"
	"gatehouse/internal/admin"
)

func handlePartitionList(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		page, limit, err := listPage(r)
		if err != nil {
			return err
		}
		items, err := s.admin.Partitions(r.Context(), who, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(p gatehouse.Partition) string { return p.ID }))
		return nil
	}
}

func handlePartitionCreate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := admin.MayCreatePartition(who); err != nil {
			return err
		}
		var req admin.PartitionInput
		if err := decode(w, r, &req); err != nil {
			return err
		}
		p, err := s.admin.CreatePartition(r.Context(), who, req)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/partitions/"+p.ID)
		writeJSON(w, http.StatusCreated, p)
		return nil
	}
}

func handlePartitionGet(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		p, err := s.admin.Partition(r.Context(), who, r.PathValue("partition_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, p)
		return nil
	}
}

func handlePartitionUpdate(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		id := r.PathValue("partition_id")
		if _, err := s.admin.PartitionToChange(r.Context(), who, id); err != nil {
			return err
		}
		var req admin.PartitionUpdate
		if err := decode(w, r, &req); err != nil {
			return err
		}
		p, err := s.admin.UpdatePartition(r.Context(), who, id, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, p)
		return nil
	}
}

func handlePartitionDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if err := s.admin.DeletePartition(r.Context(), who, r.PathValue("partition_id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
