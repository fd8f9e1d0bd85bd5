package admin

import (
	"context"
	"errors"

	"gatehouse"
)

// PartitionInput is a new partition.
type PartitionInput struct {
	Name string `json:"name"`
}

// PartitionUpdate changes a partition; nil fields stay as they are.
type PartitionUpdate struct {
	Name *string `json:"name"`
}

// Partitions lists one page of the partitions p reaches, in creation
// order: every partition for a super principal, its own for a partition
// principal, none for an account principal.
func (s *Service) Partitions(ctx context.Context, p Principal, page gatehouse.Page) ([]gatehouse.Partition, error) {
	if !p.IsAdmin() {
		return nil, ErrForbidden
	}
	switch p.Scope {
	case gatehouse.ScopeSuper:
		return s.store.ListPartitions(ctx, page)
	case gatehouse.ScopePartition:
		// Its list is its partition, when the page has not gone past it.
		if p.ScopeID <= page.After {
			return nil, nil
		}
		pt, err := s.store.Partition(ctx, p.ScopeID)
		switch {
		case errors.Is(err, gatehouse.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		}
		return []gatehouse.Partition{pt}, nil
	}
	return nil, nil
}

// superOnly refuses p what (such as "create partitions") unless p is
// super: partitions are the provider's, and a reseller may only read its
// own.
func superOnly(p Principal, what string) error {
	if p.Scope == gatehouse.ScopeSuper {
		return nil
	}
	return &ForbiddenError{Reason: "only a super " + p.noun() + " can " + what}
}

// MayCreatePartition refuses p, unless it is super, the creation of a
// partition; callers may ask before reading what to create.
func MayCreatePartition(p Principal) error { return superOnly(p, "create partitions") }

// CreatePartition creates a partition.
func (s *Service) CreatePartition(ctx context.Context, p Principal, in PartitionInput) (gatehouse.Partition, error) {
	if err := MayCreatePartition(p); err != nil {
		return gatehouse.Partition{}, err
	}
	v := &gatehouse.ValidationError{}
	pt := gatehouse.Partition{Name: cleanName(v, "name", in.Name, false)}
	if err := v.Err(); err != nil {
		return gatehouse.Partition{}, err
	}
	if err := s.store.CreatePartition(ctx, &pt); err != nil {
		return gatehouse.Partition{}, err
	}
	s.Record(ctx, p, partitionEvent(gatehouse.ActionPartitionCreate, pt, nil))
	return pt, nil
}

// PartitionToChange loads partition id for a change by p, which must reach
// it (else it is missing) and be super (else ErrForbidden); callers may ask
// before reading the change.
func (s *Service) PartitionToChange(ctx context.Context, p Principal, id string) (gatehouse.Partition, error) {
	pt, err := s.Partition(ctx, p, id)
	if err != nil {
		return pt, err
	}
	// A reseller may read its partition; what it is called is the provider's.
	return pt, superOnly(p, "change partitions")
}

// UpdatePartition changes partition id as in says.
func (s *Service) UpdatePartition(ctx context.Context, p Principal, id string, in PartitionUpdate) (gatehouse.Partition, error) {
	pt, err := s.PartitionToChange(ctx, p, id)
	if err != nil {
		return gatehouse.Partition{}, err
	}
	v := &gatehouse.ValidationError{}
	next := pt
	if in.Name != nil {
		next.Name = cleanName(v, "name", *in.Name, false)
	}
	if err := v.Err(); err != nil {
		return gatehouse.Partition{}, err
	}
	if next.Name == pt.Name {
		return next, nil
	}
	if err := s.store.UpdatePartition(ctx, &next); err != nil {
		return gatehouse.Partition{}, err
	}
	s.Record(ctx, p, partitionEvent(gatehouse.ActionPartitionUpdate, pt, map[string]string{"changed": "name"}))
	return next, nil
}

// DeletePartition deletes partition id, which must hold no accounts.
func (s *Service) DeletePartition(ctx context.Context, p Principal, id string) error {
	pt, err := s.Partition(ctx, p, id)
	if err != nil {
		return err
	}
	if err := superOnly(p, "delete partitions"); err != nil {
		return err
	}
	if err := s.store.DeletePartition(ctx, pt.ID); err != nil {
		return err
	}
	s.Record(ctx, p, partitionEvent(gatehouse.ActionPartitionDelete, pt, map[string]string{"name": pt.Name}))
	return nil
}

// partitionEvent is the audit event of a change to partition pt.
func partitionEvent(action gatehouse.AuditAction, pt gatehouse.Partition, details map[string]string) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{Action: action, PartitionID: pt.ID, TargetType: "partition", TargetID: pt.ID, Details: details}
}
