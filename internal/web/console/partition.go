package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"gatehouse"
	"gatehouse/internal/access"
	"gatehouse/internal/admin"
	"gatehouse/internal/web"
)

// The partition level (issue 14, part 5): a partition's own SSO
// configurations on an Authentication page of its own, with the same
// table, wizard, Test and enable preview as an account's (the preview
// across every account it would reach), and on each account's page the
// choice to use the partition's SSO.

// partitionAccount is an account of the partition as its Authentication
// page lists it: whether it uses the partition's SSO, and how.
type partitionAccount struct {
	Account gatehouse.Account
	// Own names the account's own enabled configuration, if any: the
	// partition's then serves only its exempt users.
	Own string
}

// partitionAuthData is what a partition's Authentication page shows.
type partitionAuthData struct {
	Partition  gatehouse.Partition
	Configs    []ssoRow
	SSONewPath string
	// Using are the accounts set to use the partition's SSO (the first
	// page of them).
	Using []partitionAccount
}

func (s *server) partitionAuthenticationPage(w http.ResponseWriter, r *http.Request) {
	c, o, ok := s.adminSSOOwner(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	views, err := s.admin.SSOConfigs(ctx, c.P, o.Policy)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	data := partitionAuthData{Partition: o.Partition, SSONewPath: o.Path + "/sso/new"}
	for _, v := range views {
		row := rowOf(v)
		h, err := s.admin.SSOConfigHealth(ctx, c.P, o.Policy, v.ID)
		if err != nil {
			s.adminError(w, r, err)
			return
		}
		d := healthDataOf(o, h)
		row.Health = &d
		data.Configs = append(data.Configs, row)
	}
	if data.Using, err = s.accountsUsing(ctx, c, o.Partition.ID); err != nil {
		s.adminError(w, r, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "partition_authentication.html", view{
		View: web.View{Title: "Partition SSO: " + o.Partition.Name, Nav: c.ownerNav(o, "partition"), Notice: ssoNotice(r, data.Configs)},
		Page: data,
	})
}

// maxUsingShown bounds the accounts a partition's page lists.
const maxUsingShown = 100

// accountsUsing lists the partition's accounts set to use its SSO (the
// first maxUsingShown), with each one's own enabled configuration.
func (s *server) accountsUsing(ctx context.Context, c adminCaller, partitionID string) ([]partitionAccount, error) {
	using, err := s.admin.PartitionSSOAccounts(ctx, c.P, partitionID, maxUsingShown)
	if err != nil {
		return nil, err
	}
	sso, err := s.admin.AccountsSSO(ctx, c.P, using)
	if err != nil {
		return nil, err
	}
	out := make([]partitionAccount, len(using))
	for i, a := range using {
		out[i] = partitionAccount{Account: a}
		if own := sso[i].Own; own != nil {
			out[i].Own = own.Name
		}
	}
	return out, nil
}

// partitionLists is a partition configuration's enable preview as its
// enable step shows it: one row per account it would reach.
type partitionLists struct {
	Accounts []partitionPreviewRow
}

type partitionPreviewRow struct {
	Name string
	// Governs says it would govern everyone at the account; otherwise
	// only the account's exempt users.
	Governs        bool
	Forced, Kept   int
	SessionsEnding int
}

func partitionListsOf(p access.PartitionPreview) *partitionLists {
	out := &partitionLists{}
	for _, a := range p.Accounts {
		l := listsOf(a.Preview)
		out.Accounts = append(out.Accounts, partitionPreviewRow{Name: a.AccountName, Governs: a.Governs,
			Forced: l.Forced.Count(), Kept: l.Kept.Count(), SessionsEnding: l.SessionsEnding})
	}
	return out
}

// accountPartitionSSO is the account page's section about the partition's
// SSO: whether the account uses it, what that means now, and (for those
// who may decide) the switch.
type accountPartitionSSO struct {
	Partition gatehouse.Partition
	// Config names the partition's enabled configuration; empty when none.
	Config string
	Use    bool
	// OwnEnabled says the account has an enabled configuration of its own,
	// so the partition's serves only its exempt users.
	OwnEnabled bool
	// MayChange says the viewer decides (a partition or super admin);
	// PartitionPath is the partition's page, for them.
	MayChange     bool
	PartitionPath string
}

func (s *server) accountPartitionSection(ctx context.Context, c adminCaller, a gatehouse.Account, configs []admin.SSOConfigView) (*accountPartitionSSO, error) {
	sec := &accountPartitionSSO{Use: a.UsePartitionSSO, MayChange: c.P.Scope != gatehouse.ScopeAccount}
	if sec.MayChange {
		p, err := s.admin.Partition(ctx, c.P, a.PartitionID)
		if err != nil {
			return nil, err
		}
		sec.Partition, sec.PartitionPath = p, partitionPath(p.ID)
	}
	for _, v := range configs {
		sec.OwnEnabled = sec.OwnEnabled || v.Enabled
	}
	// What an account's admin may see too: the partition's enabled
	// configuration, when the account uses it.
	sso, err := s.admin.AccountsSSO(ctx, c.P, []gatehouse.Account{a})
	if err != nil {
		return nil, err
	}
	if pc := sso[0].Partition; pc != nil {
		sec.Config = pc.Name
	}
	return sec, nil
}

// accountUsePartitionSSO turns the account's use of its partition's SSO
// on or off (partition and super admins: the partition decides).
func (s *server) accountUsePartitionSSO(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.adminAccountForm(w, r)
	if !ok {
		return
	}
	use, err := strconv.ParseBool(r.PostFormValue("use"))
	if err != nil {
		s.site.ErrorPage(w, http.StatusBadRequest, web.View{Title: "Nothing was changed", Message: "The form was not complete. Go back and try again.",
			Back: accountPath(a.ID) + "/authentication", BackText: "Back to Authentication"})
		return
	}
	_, err = s.admin.UpdateAccount(r.Context(), c.P, a.ID, admin.AccountUpdate{UsePartitionSSO: &use})
	var lockout *admin.LockoutError
	switch {
	case errors.Is(err, gatehouse.ErrInvalid) || errors.As(err, &lockout):
		msg := err.Error()
		if fields, invalid := fieldErrors(err); invalid {
			msg = fields["use_partition_sso"]
		}
		s.site.ErrorPage(w, http.StatusUnprocessableEntity, web.View{Title: "Nothing was changed", Message: "The partition's SSO was not turned on for " + a.Name + ": " + msg + ".",
			Back: accountPath(a.ID) + "/authentication", BackText: "Back to Authentication"})
		return
	case err != nil:
		s.adminError(w, r, err)
		return
	}
	done := "partition-sso-off"
	if use {
		done = "partition-sso-on"
	}
	http.Redirect(w, r, accountPath(a.ID)+"/authentication?done="+done, http.StatusSeeOther)
}
