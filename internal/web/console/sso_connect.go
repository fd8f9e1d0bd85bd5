package console

import (
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/admin"
	"gatehouse/internal/oidcrp"
	"gatehouse/internal/saml"
	"gatehouse/internal/ssoconfig"
	"gatehouse/internal/web"
)

// Step 3 of the wizard, connect: the IdP's metadata by URL or file, or its
// settings by hand. Saving always keeps a draft; what is still missing is
// listed beside each field.

// connectForm is the connect step's form as shown: the stored settings, or
// what the admin sent when it was refused, so nothing typed is lost.
type connectForm struct {
	// UpdatedAt is the version the form edits: a save over someone else's
	// newer edit is refused rather than silently undoing it.
	UpdatedAt string

	EntityID, SSOURL, Binding    string
	Certificates                 []certificateField
	NameIDFormat, EmailAttribute string
	SignRequests                 bool
	AllowIdPInitiated            bool
	ClockSkew                    string

	Issuer, ClientID, Scopes, EmailClaim string
	Tenants, HostedDomain, Audiences     string
	Algorithms                           []string
	SecretSet, RemoveSecret              bool
}

// certificateField is one certificate box of the form, with what the
// pasted text is.
type certificateField struct {
	Index int
	Name  string // the form field: certificate_0, certificate_1, ...
	Text  string
	Info  []ssoconfig.Certificate
	// Problem says why the text is no certificate; Error is a problem of
	// the saved configuration or of a refused save, named by the field.
	Problem, Error string
}

// nameIDFormat is one choice of NameID format.
type nameIDFormat struct{ URN, Label string }

var nameIDFormats = []nameIDFormat{
	{saml.NameIDFormatEmail, "Email address (emailAddress)"},
	{saml.NameIDFormatPersistent, "Persistent: an opaque ID (persistent)"},
	{saml.NameIDFormatUnspecified, "Unspecified: the IdP decides (unspecified)"},
	{saml.NameIDFormatTransient, "Transient: a one-time ID (transient)"},
}

// maxCertificateFields bounds the certificate boxes a form may send.
const maxCertificateFields = ssoconfig.MaxCertificates

// describeCertificates fills in what each box's text is.
func (s *server) describeCertificates(fields []certificateField) {
	for i := range fields {
		d := s.describeCertificate(fields[i].Text)
		fields[i].Info, fields[i].Problem = d.Certificates, d.Problem
	}
}

// describeCertificate says what text is: the certificates in it, or why it
// is none Gatehouse can use; nothing for an empty box.
func (s *server) describeCertificate(text string) certificateData {
	var d certificateData
	text = strings.TrimSpace(text)
	switch {
	case text == "":
	case len(text) > maxCertificateField:
		d.Problem = "This is too long to be a certificate."
	default:
		certs, err := ssoconfig.DescribeCertificates(text, s.now())
		if err != nil {
			d.Problem = "Not a certificate Gatehouse can use: " + err.Error()
		}
		d.Certificates = certs
	}
	return d
}

// certificateFields are the boxes for certs: one each, and an empty one
// for the next (a rollover), up to the limit.
func certificateFields(certs []string) []certificateField {
	out := []certificateField{}
	for _, text := range certs {
		out = append(out, certificateField{Index: len(out), Name: "certificate_" + strconv.Itoa(len(out)), Text: text})
	}
	if len(out) < maxCertificateFields {
		out = append(out, certificateField{Index: len(out), Name: "certificate_" + strconv.Itoa(len(out))})
	}
	return out
}

// formOf is the form showing configuration v as stored.
func formOf(v admin.SSOConfigView) connectForm {
	f := connectForm{UpdatedAt: v.UpdatedAt.Format(time.RFC3339Nano)}
	if s := v.SAML; s != nil {
		f.EntityID, f.SSOURL, f.Binding = s.IdPEntityID, s.SSOURL, s.SSOBinding
		f.Certificates = certificateFields(s.Certificates)
		f.NameIDFormat, f.EmailAttribute = s.NameIDFormat, s.EmailAttribute
		f.SignRequests, f.AllowIdPInitiated = s.SignRequests, s.AllowIdPInitiated
		f.ClockSkew = strconv.Itoa(s.ClockSkewSeconds)
	}
	if o := v.OIDC; o != nil {
		f.Issuer, f.ClientID = o.Issuer, o.ClientID
		f.Scopes = strings.Join(o.Scopes, " ")
		f.EmailClaim = o.EmailClaim
		f.Tenants = strings.Join(o.EntraTenants, "\n")
		f.HostedDomain = o.HostedDomain
		f.Audiences = strings.Join(o.TrustedAudiences, "\n")
		f.Algorithms = o.AllowedAlgorithms
		f.SecretSet = o.ClientSecretSet
	}
	return f
}

// splitList splits a list typed as words separated by spaces, commas or
// lines.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// parseConnectForm reads the connect form for configuration v: the form as
// sent (to show again if refused), the edit it asks for, and the problems
// that stop it before the admin service sees it (a clock skew that is no
// number).
func parseConnectForm(form url.Values, v admin.SSOConfigView, preset ssoconfig.Preset) (connectForm, admin.UpdateSSOConfigInput, map[string]string) {
	f := connectForm{UpdatedAt: form.Get("updated_at")}
	in := admin.UpdateSSOConfigInput{}
	errs := map[string]string{}
	if t, err := time.Parse(time.RFC3339Nano, f.UpdatedAt); err == nil {
		in.UpdatedAt = &t
	}
	switch v.Protocol {
	case gatehouse.ProtocolSAML:
		f.EntityID, f.SSOURL, f.Binding = form.Get("idp_entity_id"), form.Get("sso_url"), form.Get("sso_binding")
		f.NameIDFormat, f.EmailAttribute = form.Get("name_id_format"), form.Get("email_attribute")
		f.SignRequests, f.AllowIdPInitiated = form.Get("sign_requests") == "on", form.Get("allow_idp_initiated") == "on"
		f.ClockSkew = strings.TrimSpace(form.Get("clock_skew_seconds"))
		var certs []string
		for i := range maxCertificateFields {
			text := form.Get("certificate_" + strconv.Itoa(i))
			f.Certificates = append(f.Certificates, certificateField{Index: i, Name: "certificate_" + strconv.Itoa(i), Text: text})
			if strings.TrimSpace(text) != "" {
				certs = append(certs, text)
			}
		}
		// Show the boxes that were filled, and one empty.
		for len(f.Certificates) > 1 && strings.TrimSpace(f.Certificates[len(f.Certificates)-1].Text) == "" &&
			strings.TrimSpace(f.Certificates[len(f.Certificates)-2].Text) == "" {
			f.Certificates = f.Certificates[:len(f.Certificates)-1]
		}
		skew, err := strconv.Atoi(f.ClockSkew)
		if err != nil {
			errs["saml.clock_skew_seconds"] = "must be a whole number of seconds, from 0 to " + strconv.Itoa(ssoconfig.MaxClockSkewSecs)
		}
		if certs == nil {
			certs = []string{}
		}
		in.SAML = &admin.SAMLInput{IdPEntityID: &f.EntityID, SSOURL: &f.SSOURL, SSOBinding: &f.Binding, Certificates: &certs,
			NameIDFormat: &f.NameIDFormat, EmailAttribute: &f.EmailAttribute, SignRequests: &f.SignRequests,
			AllowIdPInitiated: &f.AllowIdPInitiated, ClockSkewSeconds: &skew}
	case gatehouse.ProtocolOIDC:
		f.Issuer, f.ClientID = form.Get("issuer"), form.Get("client_id")
		f.Scopes, f.EmailClaim = form.Get("scopes"), form.Get("email_claim")
		f.Tenants, f.HostedDomain = form.Get("entra_tenants"), form.Get("hosted_domain")
		f.Audiences = form.Get("trusted_audiences")
		f.Algorithms = form["allowed_algorithms"]
		f.SecretSet = v.OIDC != nil && v.OIDC.ClientSecretSet
		f.RemoveSecret = form.Get("remove_client_secret") == "on"
		scopes, algs := splitList(f.Scopes), f.Algorithms
		if algs == nil {
			algs = []string{}
		}
		audiences := splitList(f.Audiences)
		in.OIDC = &admin.OIDCInput{Issuer: &f.Issuer, ClientID: &f.ClientID, Scopes: &scopes, EmailClaim: &f.EmailClaim, AllowedAlgorithms: &algs,
			TrustedAudiences: &audiences}
		if preset.AsksEntraTenants {
			tenants := splitList(f.Tenants)
			in.OIDC.EntraTenants = &tenants
		}
		if preset.AsksHostedDomain {
			in.OIDC.HostedDomain = &f.HostedDomain
		}
		if preset.ProviderApp {
			// The provider's Entra ID application is the operator's: the
			// form has no issuer, client or secret to send.
			in.OIDC.Issuer, in.OIDC.ClientID = nil, nil
			break
		}
		// An empty box keeps the stored secret: it is never shown, so
		// the box is always empty when the form opens.
		if secret := form.Get("client_secret"); strings.TrimSpace(secret) != "" {
			in.OIDC.ClientSecret = &secret
		} else if f.RemoveSecret && preset.ClientSecretOptional {
			none := ""
			in.OIDC.ClientSecret = &none
		}
	}
	return f, in, errs
}

// renderConnect renders the connect step with form f; v.Errs holds the
// problems to show beside the fields.
func (s *server) renderConnect(w http.ResponseWriter, c adminCaller, st ssoStep, f connectForm, status int, v view) {
	s.describeCertificates(f.Certificates)
	for i := range f.Certificates {
		f.Certificates[i].Error = v.Errs["saml.certificates["+strconv.Itoa(i)+"]"]
	}
	if len(f.Certificates) > 0 && f.Certificates[0].Error == "" {
		f.Certificates[0].Error = v.Errs["saml.certificates"]
	}
	v.Errs = withListErrors(v.Errs, "oidc.entra_tenants", "oidc.trusted_audiences")
	st.Form, st.NameIDFormats, st.Algorithms = f, nameIDFormats, oidcrp.SupportedAlgorithms()
	v.Title, v.Nav, v.Page = stepTitle(st, "Connect "+st.IdP.InSentence), stepNav(c, st), st
	v.Scripts = st.ByLink
	s.pages.Render(w, status, "admin_sso_connect.html", v)
}

// withListErrors returns errs with the problems of each list's entries
// ("oidc.trusted_audiences[1]") also shown beside the list's one box,
// which holds an entry a line.
func withListErrors(errs map[string]string, lists ...string) map[string]string {
	out := maps.Clone(errs)
	if out == nil {
		out = map[string]string{}
	}
	entries := map[string][]int{}
	for field := range errs {
		if list, i, ok := listEntry(field); ok && slices.Contains(lists, list) {
			entries[list] = append(entries[list], i)
		}
	}
	for list, indexes := range entries {
		slices.Sort(indexes)
		var messages []string
		if m := errs[list]; m != "" {
			messages = append(messages, m)
		}
		for _, i := range indexes {
			messages = append(messages, "Entry "+strconv.Itoa(i+1)+": "+errs[list+"["+strconv.Itoa(i)+"]"])
		}
		out[list] = strings.Join(messages, "; ")
	}
	return out
}

// connectNotices follow a save or an import.
var connectNotices = map[string]string{
	"saved":            "Saved.",
	"draft":            "Saved as a draft. What is still missing is marked below; come back any time.",
	"imported-pending": "Imported your identity provider's metadata as pending changes: sign-ins keep using the live settings until you test these changes and apply them.",
	"pending":          "Saved as pending changes. Sign-ins keep using the live settings until you test these changes and apply them.",
	"imported":         "Imported your identity provider's metadata: its entity ID, single sign-on URL and signing certificate are filled in below. Check them, then save and continue.",
}

// connectView is the connect step's view after the action the done
// parameter names, with its notice from notices.
func connectView(r *http.Request, st ssoStep, notices map[string]string) view {
	done := r.URL.Query().Get("done")
	v := view{View: web.View{Notice: notices[done]}}
	if done == "draft" {
		// Right after a save, each missing field says so beside it.
		v.Errs = problemMap(st.Config.Problems)
	}
	return v
}

func (s *server) ssoConnectPage(w http.ResponseWriter, r *http.Request) {
	c, st, ok := s.ssoStepFor(w, r, "connect")
	if !ok {
		return
	}
	s.renderConnect(w, c, st, formOf(st.Config), http.StatusOK, connectView(r, st, connectNotices))
}

// msgStale is the answer to a save over a newer edit.
const msgStale = "Someone changed this configuration after you opened it, so nothing was saved. What you entered is still below: reload the page to see their change, then make yours again."

func (s *server) ssoConnectSave(w http.ResponseWriter, r *http.Request) {
	if !s.site.ParseForm(w, r) {
		return
	}
	c, st, ok := s.ssoStepFor(w, r, "connect")
	if !ok {
		return
	}
	f, in, errs := parseConnectForm(r.PostForm, st.Config, st.Preset.Preset)
	refuse := func(message string, errs map[string]string) {
		s.renderConnect(w, c, st, f, http.StatusUnprocessableEntity, view{View: web.View{Error: message}, Errs: errs})
	}
	if len(errs) > 0 {
		refuse("Nothing was saved: correct what is marked below.", errs)
		return
	}
	v, err := s.admin.UpdateSSOConfig(r.Context(), c.P, st.Owner.Policy, st.Config.ID, in)
	var stays *admin.StaysEnabledError
	switch {
	case errors.As(err, &stays):
		st.Problems = labelProblems(stays.Problems)
		refuse("This configuration is enabled, so an edit must leave it complete. Nothing was saved; the configuration stays as it was.", problemMap(stays.Problems))
		return
	case errors.Is(err, gatehouse.ErrConflict):
		refuse(msgStale, nil)
		return
	case errors.Is(err, gatehouse.ErrInvalid):
		fields, _ := fieldErrors(err)
		refuse("Nothing was saved: correct what is marked below.", fields)
		return
	case err != nil:
		s.adminError(w, r, err)
		return
	}
	switch {
	case v.Pending != nil && r.PostFormValue("next") == "continue":
		http.Redirect(w, r, st.Path+"/test", http.StatusSeeOther)
	case v.Pending != nil:
		http.Redirect(w, r, st.Path+"/connect?done=pending", http.StatusSeeOther)
	case r.PostFormValue("next") != "continue":
		done := "saved"
		if v.Status == gatehouse.SSODraft {
			done = "draft"
		}
		http.Redirect(w, r, st.Path+"/connect?done="+done, http.StatusSeeOther)
	case v.Status == gatehouse.SSODraft:
		http.Redirect(w, r, st.Path+"/connect?done=draft", http.StatusSeeOther)
	case v.Enabled || v.TestCurrent:
		http.Redirect(w, r, st.Path+"/enable", http.StatusSeeOther)
	default:
		http.Redirect(w, r, st.Path+"/test", http.StatusSeeOther)
	}
}

// problemMap indexes problems by field, as fieldErrors does.
func problemMap(problems []gatehouse.FieldError) map[string]string {
	errs, _ := fieldErrors(&gatehouse.ValidationError{Fields: problems})
	return errs
}

// maxMetadataUpload bounds a metadata upload: the metadata itself may be
// 1 MiB, and the multipart form around it a little more.
const maxMetadataUpload = 1<<20 + 64<<10

// metadataForm reads the URL form or the file form of the connect step:
// the import it asks for, and the problems that stop it before the admin
// service sees it. ok is false when it answered the request itself.
func (s *server) metadataForm(w http.ResponseWriter, r *http.Request) (in admin.MetadataInput, errs map[string]string, ok bool) {
	errs = map[string]string{}
	r.Body = http.MaxBytesReader(w, r.Body, maxMetadataUpload)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		if err := r.ParseMultipartForm(maxMetadataUpload); err != nil {
			errs["metadata_file"] = "The file could not be read, or it is larger than 1 MiB (IdP metadata is a few kilobytes)."
		} else if file, _, err := r.FormFile("metadata_file"); err == nil {
			data, err := io.ReadAll(io.LimitReader(file, 1<<20+1))
			file.Close()
			switch {
			case err != nil:
				errs["metadata_file"] = "The file could not be read. Choose it again."
			case len(data) > 1<<20:
				errs["metadata_file"] = "The file is larger than 1 MiB: IdP metadata is a few kilobytes."
			case len(strings.TrimSpace(string(data))) == 0:
				errs["metadata_file"] = "The file is empty."
			default:
				in.XML = string(data)
			}
		} else {
			errs["metadata_file"] = "Choose your identity provider's metadata file (XML), then import."
		}
	} else if err := r.ParseForm(); err != nil {
		errs["url"] = "The form could not be read. Please try again."
	} else {
		in.URL = strings.TrimSpace(r.PostFormValue("url"))
		if in.URL == "" {
			errs["url"] = "Enter the URL of your identity provider's metadata."
		}
	}
	// The file is XML, whose parser checks its encoding; the fields are text.
	if !s.site.FormIsText(w, r) {
		return in, nil, false
	}
	in.EntityID = strings.TrimSpace(r.PostFormValue("entity_id"))
	if t, err := time.Parse(time.RFC3339Nano, r.PostFormValue("updated_at")); err == nil {
		in.UpdatedAt = &t
	}
	return in, errs, true
}

// ssoMetadataImport imports the IdP's metadata from the URL form or the
// file form of the connect step.
func (s *server) ssoMetadataImport(w http.ResponseWriter, r *http.Request) {
	in, errs, ok := s.metadataForm(w, r)
	if !ok {
		return
	}
	c, st, ok := s.ssoStepFor(w, r, "connect")
	if !ok {
		return
	}
	st.MetadataURL = in.URL
	refuse := func(message string, errs map[string]string) {
		s.renderConnect(w, c, st, formOf(st.Config), http.StatusUnprocessableEntity, view{View: web.View{Error: message}, Errs: errs})
	}
	if len(errs) > 0 {
		refuse("Nothing was imported: correct what is marked below.", errs)
		return
	}
	imported, err := s.admin.ImportSSOMetadata(r.Context(), c.P, st.Owner.Policy, st.Config.ID, in)
	var choose *admin.ChooseEntityError
	var stays *admin.StaysEnabledError
	switch {
	case errors.As(err, &choose):
		st.EntityChoices = choose.Choices
		refuse("This metadata describes "+strconv.Itoa(len(choose.Choices))+" identity providers: choose yours below, then import again.", nil)
	case errors.As(err, &stays):
		st.Problems = labelProblems(stays.Problems)
		refuse("This configuration is enabled, and the imported metadata would leave it incomplete. Nothing was imported.", nil)
	case errors.Is(err, gatehouse.ErrConflict):
		refuse("Someone changed this configuration after you opened it, so nothing was imported. Reload the page, then import again.", nil)
	case errors.Is(err, gatehouse.ErrInvalid):
		fields, _ := fieldErrors(err)
		if msg, ok := fields["xml"]; ok {
			fields["metadata_file"] = msg
		}
		refuse("Nothing was imported: correct what is marked below.", fields)
	case err != nil:
		s.adminError(w, r, err)
	case imported.Pending != nil:
		http.Redirect(w, r, st.Path+"/connect?done=imported-pending", http.StatusSeeOther)
	default:
		http.Redirect(w, r, st.Path+"/connect?done=imported", http.StatusSeeOther)
	}
}
