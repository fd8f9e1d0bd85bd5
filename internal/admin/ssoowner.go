package admin

import (
	"context"

	"gatehouse"
	"gatehouse/internal/policy"
)

// ownerOf is a loaded policy.Owner: exactly one of account and partition is set.
type ownerOf struct {
	account   gatehouse.Account
	partition gatehouse.Partition
}

// owner loads the owner o names (its account when AccountID is set, else
// its partition), answering as for a missing one when p does not reach it:
// an account any principal reaching it may manage; a partition only its
// partition principals and super ones.
func (s *Service) owner(ctx context.Context, p Principal, o policy.Owner) (ownerOf, error) {
	if o.AccountID != "" || o.PartitionID == "" {
		a, err := s.Account(ctx, p, o.AccountID)
		return ownerOf{account: a}, err
	}
	pt, err := s.Partition(ctx, p, o.PartitionID)
	return ownerOf{partition: pt}, err
}

// isPartition reports whether the owner is a partition.
func (o ownerOf) isPartition() bool { return o.account.ID == "" }

// keys returns the owner as the store keys configurations: an account's
// ID, or (with accountID empty) a partition's.
func (o ownerOf) keys() (accountID, partitionID string) {
	if o.isPartition() {
		return "", o.partition.ID
	}
	return o.account.ID, ""
}

// owns reports whether configuration c belongs to the owner.
func (o ownerOf) owns(c gatehouse.SSOConfig) bool {
	accountID, partitionID := o.keys()
	return c.AccountID == accountID && c.PartitionID == partitionID
}

// event is an audit event about configuration configID of the owner: a
// partition's configuration is recorded under the partition alone.
func (o ownerOf) event(action gatehouse.AuditAction, configID string, details map[string]string) gatehouse.AuditEvent {
	ev := gatehouse.AuditEvent{Action: action, AccountID: o.account.ID, PartitionID: o.account.PartitionID,
		TargetType: "sso_config", TargetID: configID, Details: details}
	if o.isPartition() {
		ev.PartitionID = o.partition.ID
	}
	return ev
}

// ownedSSOConfig loads owner o and its configuration id, both of which p
// must reach.
func (s *Service) ownedSSOConfig(ctx context.Context, p Principal, o policy.Owner, id string) (ownerOf, gatehouse.SSOConfig, error) {
	own, err := s.owner(ctx, p, o)
	if err != nil {
		return own, gatehouse.SSOConfig{}, err
	}
	c, err := s.store.SSOConfig(ctx, id)
	if err != nil {
		return own, c, err
	}
	if !own.owns(c) {
		return own, gatehouse.SSOConfig{}, ErrHidden
	}
	return own, c, nil
}
