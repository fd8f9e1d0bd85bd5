package api

import (
	"context"
	"net/http"

	"gatehouse"
)

// ssoOwner is whom the SSO configurations a request's path names belong
// to: an account (/accounts/{account_id}/sso-configs) or a partition
// (/partitions/{partition_id}/sso-configs). Exactly one of account and
// partition is set. One set of handlers serves both route sets; they
// differ only in the owner.
type ssoOwner struct {
	account   gatehouse.Account
	partition gatehouse.Partition
}

// ssoOwnerOf loads the owner a request's path names, answering as for a
// missing one when the token does not reach it.
type ssoOwnerOf func(s *server, r *http.Request, tok gatehouse.APIToken) (ssoOwner, error)

// accountOwner is the account of the path's account_id, which any token
// reaching the account may manage.
func accountOwner(s *server, r *http.Request, tok gatehouse.APIToken) (ssoOwner, error) {
	a, err := s.account(r.Context(), tok, r.PathValue("account_id"))
	return ssoOwner{account: a}, err
}

// partitionOwner is the partition of the path's partition_id: only its
// partition tokens and super tokens reach it; an account token gets 404,
// as for every partition.
func partitionOwner(s *server, r *http.Request, tok gatehouse.APIToken) (ssoOwner, error) {
	p, err := s.partition(r.Context(), tok, r.PathValue("partition_id"))
	return ssoOwner{partition: p}, err
}

// isPartition reports whether the owner is a partition.
func (o ssoOwner) isPartition() bool { return o.account.ID == "" }

// keys returns the owner as the store keys configurations: an account's
// ID, or (with accountID empty) a partition's.
func (o ssoOwner) keys() (accountID, partitionID string) {
	if o.isPartition() {
		return "", o.partition.ID
	}
	return o.account.ID, ""
}

// owns reports whether configuration c belongs to the owner.
func (o ssoOwner) owns(c gatehouse.SSOConfig) bool {
	accountID, partitionID := o.keys()
	return c.AccountID == accountID && c.PartitionID == partitionID
}

// path is the API path of the owner, under which its configurations live.
func (o ssoOwner) path() string {
	if o.isPartition() {
		return "/api/v1/partitions/" + o.partition.ID
	}
	return "/api/v1/accounts/" + o.account.ID
}

// event is an audit event about configuration configID of the owner: a
// partition's configuration is recorded under the partition alone.
func (o ssoOwner) event(action, configID string, details map[string]string) gatehouse.AuditEvent {
	ev := gatehouse.AuditEvent{Action: action, AccountID: o.account.ID, PartitionID: o.account.PartitionID,
		TargetType: "sso_config", TargetID: configID, Details: details}
	if o.isPartition() {
		ev.PartitionID = o.partition.ID
	}
	return ev
}

// ssoConfig loads configuration id of owner o (which the token reaches).
func (s *server) ssoConfig(ctx context.Context, o ssoOwner, id string) (gatehouse.SSOConfig, error) {
	c, err := s.store.SSOConfig(ctx, id)
	if err != nil {
		return c, err
	}
	if !o.owns(c) {
		return gatehouse.SSOConfig{}, errHidden
	}
	return c, nil
}

// ownedSSOConfig loads the owner and the configuration a request's path
// names.
func (s *server) ownedSSOConfig(r *http.Request, tok gatehouse.APIToken, ownerOf ssoOwnerOf) (ssoOwner, gatehouse.SSOConfig, error) {
	o, err := ownerOf(s, r, tok)
	if err != nil {
		return o, gatehouse.SSOConfig{}, err
	}
	c, err := s.ssoConfig(r.Context(), o, r.PathValue("config_id"))
	return o, c, err
}

// ssoConfigRoutes lists the routes of one owner's configurations under
// prefix (the owner's path pattern); both owners share the handlers.
func ssoConfigRoutes(s *server, prefix string, ownerOf ssoOwnerOf) []route {
	a := s.authed
	one := prefix + "/sso-configs/{config_id}"
	return []route{
		{"GET", prefix + "/sso-configs", a(handleSSOConfigList(s, ownerOf))},
		{"POST", prefix + "/sso-configs", a(handleSSOConfigCreate(s, ownerOf))},
		{"GET", one, a(handleSSOConfigGet(s, ownerOf))},
		{"PATCH", one, a(handleSSOConfigUpdate(s, ownerOf))},
		{"DELETE", one, a(handleSSOConfigDelete(s, ownerOf))},
		{"POST", one + "/metadata", a(handleSSOConfigMetadata(s, ownerOf))},
		{"POST", one + "/sp-key", a(handleSSOConfigRotateKey(s, ownerOf))},
		{"POST", one + "/enable", a(handleSSOConfigEnable(s, ownerOf))},
		{"POST", one + "/disable", a(handleSSOConfigDisable(s, ownerOf))},
		{"GET", one + "/enable-preview", a(handleSSOConfigEnablePreview(s, ownerOf))},
	}
}
