package scim

import (
	"encoding/json"
	"strings"
	"time"

	"gatehouse"
	"gatehouse/internal/store"
)

// How Gatehouse's users and groups are SCIM resources, and back.
//
// A user's userName is the IdP's (kept as given, unique in the account
// case-insensitively), or the email for a user SCIM never touched. The
// seat's email is the primary email, else the work email, else the first,
// else the userName. displayName is the seat's display name (or the name's
// formatted value, or given and family names). active is the seat's
// status. Every other attribute of the User and Enterprise User schemas is
// kept as the IdP sent it, so a GET answers what it was given.

// renderUser is p as a SCIM User.
func renderUser(p store.SCIMProvisioned, groups []gatehouse.Group, base string) map[string]any {
	res := map[string]any{}
	if len(p.SCIM.Attributes) > 0 {
		_ = json.Unmarshal(p.SCIM.Attributes, &res) // written by PutSCIMUser from a map: it is an object
	}
	schemas := []any{URNUser}
	if ext, ok := res[URNEnterpriseUser].(map[string]any); ok && len(ext) > 0 {
		schemas = append(schemas, URNEnterpriseUser)
	}
	res["schemas"] = schemas
	res["id"] = p.ID
	res["userName"] = p.Email
	if p.SCIM.UserName != "" {
		res["userName"] = p.SCIM.UserName
	}
	if p.SCIM.ExternalID != "" {
		res["externalId"] = p.SCIM.ExternalID
	}
	if p.DisplayName != "" {
		res["displayName"] = p.DisplayName
	}
	res["active"] = p.Status == gatehouse.UserActive
	res["emails"] = emailsWith(asList(res["emails"]), p.Email)
	if len(groups) > 0 {
		gs := make([]any, len(groups))
		for i, g := range groups {
			gs[i] = map[string]any{"value": g.ID, "display": g.Name, "$ref": base + "/Groups/" + g.ID, "type": "direct"}
		}
		res["groups"] = gs
	}
	modified := p.UpdatedAt
	if p.SCIM.UpdatedAt.After(modified) {
		modified = p.SCIM.UpdatedAt
	}
	res["meta"] = meta("User", p.CreatedAt, modified, base+"/Users/"+p.ID)
	return res
}

// emailsWith is the emails a user has, with the seat's email among them:
// when an admin changed it in Gatehouse, it takes the place of the one it
// was taken from.
func emailsWith(emails []any, email string) []any {
	if email == "" {
		return emails
	}
	for _, e := range emails {
		if m, ok := e.(map[string]any); ok && strings.EqualFold(str0(m["value"]), email) {
			return emails
		}
	}
	if i := seatEmailIndex(emails); i >= 0 {
		emails[i].(map[string]any)["value"] = email
		return emails
	}
	return []any{map[string]any{"value": email, "type": "work", "primary": true}}
}

// seatEmailIndex is the index of the email that is the seat's: the
// primary, else the work one, else the first; -1 when there is none.
func seatEmailIndex(emails []any) int {
	first, work := -1, -1
	for i, e := range emails {
		m, ok := e.(map[string]any)
		if !ok || str0(m["value"]) == "" {
			continue
		}
		if p, _ := m["primary"].(bool); p {
			return i
		}
		if first < 0 {
			first = i
		}
		if work < 0 && strings.EqualFold(str0(m["type"]), "work") {
			work = i
		}
	}
	if work >= 0 {
		return work
	}
	return first
}

func str0(v any) string { s, _ := v.(string); return s }

func meta(kind string, created, modified time.Time, location string) map[string]any {
	return map[string]any{"resourceType": kind, "created": created.UTC().Format(time.RFC3339Nano),
		"lastModified": modified.UTC().Format(time.RFC3339Nano), "location": location}
}

// userFields is a User resource read from a request.
type userFields struct {
	UserName, ExternalID, Email, DisplayName string
	Active                                   bool
	// Attrs are the other attributes, checked against the schemas.
	Attrs map[string]any
}

// readUser reads a User resource: a POST's or PUT's body, or a user after
// a PATCH. Attributes of no schema Gatehouse serves are ignored, as are
// read-only ones; ones of the wrong type are a 400 invalidValue.
func readUser(obj map[string]any) (userFields, error) {
	f := userFields{Active: true, Attrs: map[string]any{}}
	for k, v := range obj {
		if ext := UserSchema.Extension(k); ext != nil {
			m, ok := v.(map[string]any)
			if !ok && v != nil {
				return f, badRequest(TypeInvalidValue, "%s must be an object", ext.ID)
			}
			out := map[string]any{}
			for ek, ev := range m {
				a := find(ext.Attributes, ek)
				if a == nil {
					continue
				}
				c, err := coerce(a, ev, true)
				if err != nil {
					return f, err
				}
				if present(c) {
					out[a.Name] = c
				}
			}
			if len(out) > 0 {
				f.Attrs[ext.ID] = out
			}
			continue
		}
		a := find(UserSchema.Attributes, k)
		if a == nil || a.Mutability == "readOnly" || a.Mutability == "writeOnly" {
			continue
		}
		c, err := coerce(a, v, true)
		if err != nil {
			return f, err
		}
		switch a.Name {
		case "userName":
			f.UserName = strings.TrimSpace(str0(c))
		case "externalId":
			f.ExternalID = str0(c)
		case "displayName":
			f.DisplayName = str0(c)
		case "active":
			if b, ok := c.(bool); ok {
				f.Active = b
			}
		default:
			if present(c) {
				f.Attrs[a.Name] = c
			}
		}
	}
	if f.UserName == "" {
		return f, badRequest(TypeInvalidValue, "userName is required")
	}
	emails := asList(f.Attrs["emails"])
	if i := seatEmailIndex(emails); i >= 0 {
		f.Email = str0(emails[i].(map[string]any)["value"])
	} else {
		f.Email = f.UserName
	}
	if f.DisplayName == "" {
		if name, ok := f.Attrs["name"].(map[string]any); ok {
			f.DisplayName = str0(name["formatted"])
			if f.DisplayName == "" {
				f.DisplayName = strings.TrimSpace(str0(name["givenName"]) + " " + str0(name["familyName"]))
			}
		}
	}
	return f, nil
}

// attrsJSON is what is kept of f's attributes.
func (f userFields) attrsJSON() []byte {
	b, _ := json.Marshal(f.Attrs) // values decoded from JSON encode again
	return b
}

// renderGroup is g as a SCIM Group; members nil leaves them out.
func renderGroup(g store.SCIMGroupOf, members []store.MemberRef, withMembers bool, base string) map[string]any {
	res := map[string]any{"schemas": []any{URNGroup}, "id": g.ID, "displayName": g.Name}
	if g.SCIM.ExternalID != "" {
		res["externalId"] = g.SCIM.ExternalID
	}
	if withMembers && len(members) > 0 {
		ms := make([]any, len(members))
		for i, m := range members {
			display := m.DisplayName
			if display == "" {
				display = m.Email
			}
			ms[i] = map[string]any{"value": m.UserID, "display": display, "$ref": base + "/Users/" + m.UserID, "type": "User"}
		}
		res["members"] = ms
	}
	modified := g.UpdatedAt
	if g.SCIM.UpdatedAt.After(modified) {
		modified = g.SCIM.UpdatedAt
	}
	res["meta"] = meta("Group", g.CreatedAt, modified, base+"/Groups/"+g.ID)
	return res
}

// groupFields is a Group resource read from a request.
type groupFields struct {
	DisplayName, ExternalID string
	// Members are user IDs, in the order given, without repeats.
	Members []string
}

// maxMembers bounds the members one request may name.
const maxMembers = 100000

func readGroup(obj map[string]any) (groupFields, error) {
	var f groupFields
	seen := map[string]bool{}
	for k, v := range obj {
		a := find(GroupSchema.Attributes, k)
		if a == nil || a.Mutability == "readOnly" {
			continue
		}
		c, err := coerce(a, v, true)
		if err != nil {
			return f, err
		}
		switch a.Name {
		case "displayName":
			f.DisplayName = strings.TrimSpace(str0(c))
		case "externalId":
			f.ExternalID = str0(c)
		case "members":
			for _, m := range asList(c) {
				mm, _ := m.(map[string]any)
				if t := str0(mm["type"]); t != "" && !strings.EqualFold(t, "User") {
					return f, badRequest(TypeInvalidValue, "members may only be users: Gatehouse groups do not nest")
				}
				id := strings.TrimSpace(str0(mm["value"]))
				if id == "" {
					return f, badRequest(TypeInvalidValue, "every member needs a value, the user's id")
				}
				if !seen[id] {
					seen[id] = true
					f.Members = append(f.Members, id)
				}
			}
			if len(f.Members) > maxMembers {
				return f, badRequest(TypeTooMany, "a group may have at most %d members", maxMembers)
			}
		}
	}
	if f.DisplayName == "" {
		return f, badRequest(TypeInvalidValue, "displayName is required")
	}
	return f, nil
}
