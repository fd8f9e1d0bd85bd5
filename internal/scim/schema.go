package scim

import "strings"

// The schemas Gatehouse serves (RFC 7643 sections 4 and 8.7.1): the User
// with the Enterprise User extension, and the Group. They are the source
// of /Schemas, of which attributes a PATCH may name and with which case,
// of caseExact comparisons, and of which values are booleans.

// Schema URNs.
const (
	URNUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	URNGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	URNEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	URNListResponse   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	URNPatchOp        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	URNError          = "urn:ietf:params:scim:api:messages:2.0:Error"
	URNSPConfig       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	URNResourceType   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	URNSchema         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// Attribute is one attribute definition (RFC 7643 section 7).
type Attribute struct {
	Name            string       `json:"name"`
	Type            string       `json:"type"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description"`
	Required        bool         `json:"required"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      string       `json:"mutability"`
	Returned        string       `json:"returned"`
	Uniqueness      string       `json:"uniqueness"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
	SubAttributes   []*Attribute `json:"subAttributes,omitempty"`
}

// Schema is one schema: its URN, name and attributes, and for a resource's
// core schema the extensions it may carry.
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Attributes  []*Attribute `json:"attributes"`
	Extensions  []*Schema    `json:"-"`
}

// find returns the attribute named name, case-insensitively, or nil.
func find(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// Extension returns s's extension urn, case-insensitively, or nil.
func (s *Schema) Extension(urn string) *Schema {
	for _, e := range s.Extensions {
		if strings.EqualFold(e.ID, urn) {
			return e
		}
	}
	return nil
}

// caseExact reports whether attribute attr (sub-attribute sub) compares
// case-sensitively.
func (s *Schema) caseExact(attr, sub string) bool {
	if s == nil {
		return false
	}
	if strings.EqualFold(attr, "id") {
		return true
	}
	a := find(s.Attributes, attr)
	if a == nil {
		for _, e := range s.Extensions {
			if a = find(e.Attributes, attr); a != nil {
				break
			}
		}
	}
	if a == nil {
		return false
	}
	if sub != "" {
		if a = find(a.SubAttributes, sub); a == nil {
			return false
		}
	}
	return a.CaseExact
}

func str(name, desc string) *Attribute {
	return &Attribute{Name: name, Type: "string", Description: desc, Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

func boolean(name, desc string) *Attribute {
	return &Attribute{Name: name, Type: "boolean", Description: desc, Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

func complexAttr(name, desc string, multi bool, subs ...*Attribute) *Attribute {
	return &Attribute{Name: name, Type: "complex", MultiValued: multi, Description: desc, Mutability: "readWrite", Returned: "default",
		Uniqueness: "none", SubAttributes: subs}
}

func with(a *Attribute, f func(*Attribute)) *Attribute { f(a); return a }

// multiValue is the sub-attributes of a multi-valued attribute such as
// emails: value, display, type (one of types), primary.
func multiValue(name, desc string, types []string, subs ...*Attribute) *Attribute {
	all := append([]*Attribute{str("value", "The value."), str("display", "A label for display."),
		with(str("type", "What it is for."), func(a *Attribute) { a.CanonicalValues = types }),
		boolean("primary", "The preferred value.")}, subs...)
	return complexAttr(name, desc, true, all...)
}

// commonAttributes are the attributes every resource has (RFC 7643
// section 3.1).
func commonAttributes() []*Attribute {
	return []*Attribute{
		with(str("id", "Gatehouse's identifier of the resource."), func(a *Attribute) {
			a.CaseExact, a.Mutability, a.Returned, a.Uniqueness = true, "readOnly", "always", "server"
		}),
		with(str("externalId", "The provisioning client's identifier of the resource."), func(a *Attribute) { a.CaseExact = true }),
	}
}

// UserSchema is the core User schema, as Gatehouse keeps it.
var UserSchema = &Schema{ID: URNUser, Name: "User", Description: "User Account", Attributes: []*Attribute{
	with(str("userName", "The IdP's unique name of the user, case-insensitive; an email address unless emails names one."), func(a *Attribute) {
		a.Required, a.Uniqueness = true, "server"
	}),
	complexAttr("name", "The components of the user's name.", false,
		str("formatted", "The full name."), str("familyName", "The family name."), str("givenName", "The given name."),
		str("middleName", "The middle name."), str("honorificPrefix", "The honorific prefix."), str("honorificSuffix", "The honorific suffix.")),
	str("displayName", "The name shown for the user; Gatehouse's display name."),
	str("nickName", "The casual name."),
	with(str("profileUrl", "The user's online profile."), func(a *Attribute) { a.Type, a.ReferenceTypes = "reference", []string{"external"} }),
	str("title", "The job title."),
	str("userType", "The relationship to the organisation."),
	str("preferredLanguage", "The preferred language."),
	str("locale", "The locale."),
	str("timezone", "The time zone."),
	boolean("active", "Whether the seat may sign in; false disables it at once, ending its sessions and grants."),
	with(str("password", "Never stored or returned: Gatehouse ignores it."), func(a *Attribute) { a.Mutability, a.Returned = "writeOnly", "never" }),
	multiValue("emails", "Email addresses; the primary (else the work, else the first) is the seat's email.", []string{"work", "home", "other"}),
	multiValue("phoneNumbers", "Phone numbers.", []string{"work", "home", "mobile", "fax", "pager", "other"}),
	multiValue("ims", "Instant messaging addresses.", []string{"aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"}),
	multiValue("photos", "Photos.", []string{"photo", "thumbnail"}),
	complexAttr("addresses", "Physical addresses.", true,
		str("formatted", "The full address."), str("streetAddress", "The street."), str("locality", "The city."),
		str("region", "The region."), str("postalCode", "The postal code."), str("country", "The country."),
		with(str("type", "What it is for."), func(a *Attribute) { a.CanonicalValues = []string{"work", "home", "other"} }),
		boolean("primary", "The preferred address.")),
	with(complexAttr("groups", "The groups the user is in; change them through the groups.", true,
		str("value", "The group's id."), with(str("$ref", "The group's URI."), func(a *Attribute) { a.Type, a.ReferenceTypes = "reference", []string{"Group"} }),
		str("display", "The group's name."), str("type", "direct")), func(a *Attribute) {
		a.Mutability = "readOnly"
		for _, s := range a.SubAttributes {
			s.Mutability = "readOnly"
		}
	}),
	multiValue("entitlements", "Entitlements.", nil),
	multiValue("roles", "Roles.", nil),
	multiValue("x509Certificates", "Certificates.", nil),
}, Extensions: []*Schema{EnterpriseUserSchema}}

// EnterpriseUserSchema is the Enterprise User extension.
var EnterpriseUserSchema = &Schema{ID: URNEnterpriseUser, Name: "EnterpriseUser", Description: "Enterprise User", Attributes: []*Attribute{
	str("employeeNumber", "The employee number."),
	str("costCenter", "The cost center."),
	str("organization", "The organisation."),
	str("division", "The division."),
	str("department", "The department."),
	complexAttr("manager", "The user's manager.", false,
		str("value", "The manager's id."), with(str("$ref", "The manager's URI."), func(a *Attribute) { a.Type, a.ReferenceTypes = "reference", []string{"User"} }),
		with(str("displayName", "The manager's name."), func(a *Attribute) { a.Mutability = "readOnly" })),
}}

// GroupSchema is the core Group schema.
var GroupSchema = &Schema{ID: URNGroup, Name: "Group", Description: "Group", Attributes: []*Attribute{
	with(str("displayName", "The group's name."), func(a *Attribute) { a.Required = true }),
	complexAttr("members", "The users in the group (Gatehouse groups hold users only).", true,
		with(str("value", "The member's id."), func(a *Attribute) { a.Mutability = "immutable" }),
		with(str("$ref", "The member's URI."), func(a *Attribute) {
			a.Type, a.Mutability, a.ReferenceTypes = "reference", "immutable", []string{"User"}
		}),
		with(str("display", "The member's name."), func(a *Attribute) { a.Mutability = "readOnly" }),
		with(str("type", "User."), func(a *Attribute) { a.Mutability, a.CanonicalValues = "immutable", []string{"User"} })),
}}

func init() {
	for _, s := range []*Schema{UserSchema, GroupSchema} {
		s.Attributes = append(commonAttributes(), s.Attributes...)
	}
}
