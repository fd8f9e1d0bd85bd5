package console

import (
	"net/http"

	"gatehouse"
	"gatehouse/internal/policy"
	"gatehouse/internal/web"
)

// ssoOwner is whose SSO configurations a page is about: an account's, or a
// partition's (issue 14, part 5). The same table, wizard, Test and enable
// preview serve both, under the owner's Path.
type ssoOwner struct {
	Policy policy.Owner
	// Name is the owner's name, for sentences.
	Name string
	// Path is the root of the owner's admin pages: /admin/accounts/{id} or
	// /admin/partitions/{id}.
	Path string
	// Account is the account; zero for a partition.
	Account gatehouse.Account
	// Partition is the partition; zero for an account.
	Partition gatehouse.Partition
}

// IsPartition reports whether the owner is a partition.
func (o ssoOwner) IsPartition() bool { return o.Partition.ID != "" }

func accountSSOOwner(a gatehouse.Account) ssoOwner {
	return ssoOwner{Policy: policy.Owner{AccountID: a.ID}, Name: a.Name, Path: accountPath(a.ID), Account: a}
}

// partitionPath is the root of partition id's admin pages.
func partitionPath(id string) string { return "/admin/partitions/" + id }

func partitionSSOOwner(p gatehouse.Partition) ssoOwner {
	return ssoOwner{Policy: policy.PartitionOwner(p.ID), Name: p.Name, Path: partitionPath(p.ID), Partition: p}
}

// configPath is the root of configuration configID's pages under owner o.
func (o ssoOwner) configPath(configID string) string { return o.Path + "/sso/" + configID }

// adminSSOOwner returns the signed-in administrator and the owner the
// path names ({partition_id} or {account_id}), which they must reach;
// otherwise it answers itself.
func (s *server) adminSSOOwner(w http.ResponseWriter, r *http.Request) (adminCaller, ssoOwner, bool) {
	id := r.PathValue("partition_id")
	if id == "" {
		c, a, ok := s.adminAccount(w, r)
		return c, accountSSOOwner(a), ok
	}
	c, ok := s.adminCaller(w, r)
	if !ok {
		return c, ssoOwner{}, false
	}
	p, err := s.admin.Partition(r.Context(), c.P, id)
	if err != nil {
		s.adminError(w, r, err)
		return c, ssoOwner{}, false
	}
	return c, partitionSSOOwner(p), true
}

// adminSSOOwnerForm is adminSSOOwner for a form post.
func (s *server) adminSSOOwnerForm(w http.ResponseWriter, r *http.Request) (adminCaller, ssoOwner, bool) {
	if !s.site.ParseForm(w, r) {
		return adminCaller{}, ssoOwner{}, false
	}
	return s.adminSSOOwner(w, r)
}

// ownerNav is the navigation of a page about owner o.
func (c adminCaller) ownerNav(o ssoOwner, current string) *web.AdminNav {
	if o.IsPartition() {
		return c.nav(gatehouse.Account{}, "partition")
	}
	return c.nav(o.Account, current)
}
