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
		var items []gatehouse.Partition
		switch who.Scope {
		case gatehouse.ScopeSuper:
			if items, err = s.store.ListPartitions(r.Context(), page); err != nil {
				return err
			}
		case gatehouse.ScopePartition:
			if who.ScopeID > page.After {
				p, err := s.store.Partition(r.Context(), who.ScopeID)
				if err != nil && !isNotFound(err) {
					return err
				}
				if err == nil {
					items = append(items, p)
				}
			}
		}
		writeJSON(w, http.StatusOK, paged(items, limit, func(p gatehouse.Partition) string { return p.ID }))
		return nil
	}
}

func handlePartitionCreate(s *server) apiHandler {
	type request struct {
		Name string `json:"name"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		if who.Scope != gatehouse.ScopeSuper {
			return forbidden("only a super token can create partitions")
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		p := gatehouse.Partition{Name: admin.CleanName(v, "name", req.Name, false)}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.CreatePartition(r.Context(), &p); err != nil {
			return err
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "partition.create", PartitionID: p.ID, TargetType: "partition", TargetID: p.ID})
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
	type request struct {
		Name *string `json:"name"`
	}
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		p, err := s.admin.Partition(r.Context(), who, r.PathValue("partition_id"))
		if err != nil {
			return err
		}
		// A reseller may read its partition; what it is called is the provider's.
		if who.Scope != gatehouse.ScopeSuper {
			return forbidden("only a super token can change partitions")
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		v := &gatehouse.ValidationError{}
		next := p
		if req.Name != nil {
			next.Name = admin.CleanName(v, "name", *req.Name, false)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if next.Name != p.Name {
			if err := s.store.UpdatePartition(r.Context(), &next); err != nil {
				return err
			}
			s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "partition.update", PartitionID: p.ID, TargetType: "partition", TargetID: p.ID,
				Details: map[string]string{"changed": "name"}})
		}
		writeJSON(w, http.StatusOK, next)
		return nil
	}
}

func handlePartitionDelete(s *server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, who admin.Principal) error {
		p, err := s.admin.Partition(r.Context(), who, r.PathValue("partition_id"))
		if err != nil {
			return err
		}
		if who.Scope != gatehouse.ScopeSuper {
			return forbidden("only a super token can delete partitions")
		}
		if err := s.store.DeletePartition(r.Context(), p.ID); err != nil {
			return err
		}
		s.admin.Record(r.Context(), who, gatehouse.AuditEvent{Action: "partition.delete", PartitionID: p.ID, TargetType: "partition", TargetID: p.ID,
			Details: map[string]string{"name": p.Name}})
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
