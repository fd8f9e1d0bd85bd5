package scim

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func ops(t *testing.T, s string) []PatchOp {
	t.Helper()
	var req PatchRequest
	if err := json.Unmarshal([]byte(s), &req); err != nil {
		t.Fatal(err)
	}
	return req.Operations
}

func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back any
	_ = json.Unmarshal(b, &back)
	b, _ = json.Marshal(back)
	return string(b)
}

const base = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"alice@contoso.com","active":true,
 "displayName":"Alice","emails":[{"value":"alice@contoso.com","type":"work","primary":true}],"name":{"givenName":"Alice","familyName":"Smith"}}`

const group = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Sales",
 "members":[{"value":"u1","display":"Alice"},{"value":"u2","display":"Bob"}]}`

// TestApplyPatch: the operations Entra ID and Okta send (from their
// documentation), and RFC 7644's, give the resource they should.
func TestApplyPatch(t *testing.T) {
	for _, tc := range []struct {
		name, resource, patch string
		schema                *Schema
		check                 func(t *testing.T, res map[string]any)
	}{
		{"Entra deactivation, the string form", base,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
			UserSchema, func(t *testing.T, res map[string]any) { want(t, res["active"], false) }},
		{"Okta deactivation, a path-less value", base,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
			UserSchema, func(t *testing.T, res map[string]any) { want(t, res["active"], false) }},
		{"Entra replace of the work email", base,
			`{"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"alice.smith@contoso.com"}]}`,
			UserSchema, func(t *testing.T, res map[string]any) {
				want(t, res["emails"].([]any)[0].(map[string]any)["value"], "alice.smith@contoso.com")
				want(t, len(res["emails"].([]any)), 1)
			}},
		{"Entra add of a work phone nobody had", base,
			`{"Operations":[{"op":"Add","path":"phoneNumbers[type eq \"work\"].value","value":"+1 555 0100"}]}`,
			UserSchema, func(t *testing.T, res map[string]any) {
				want(t, canon(t, res["phoneNumbers"]), `[{"type":"work","value":"+1 555 0100"}]`)
			}},
		{"Entra path-less add with path keys and the enterprise extension", base,
			`{"Operations":[{"op":"Add","value":{"name.givenName":"Alicia","title":"CTO",
			  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"R&D"}}]}`,
			UserSchema, func(t *testing.T, res map[string]any) {
				want(t, res["name"].(map[string]any)["givenName"], "Alicia")
				want(t, res["name"].(map[string]any)["familyName"], "Smith")
				want(t, res["title"], "CTO")
				want(t, canon(t, res[URNEnterpriseUser]), `{"department":"R\u0026D"}`)
			}},
		{"Entra manager as a bare value", base,
			`{"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"u9"}]}`,
			UserSchema, func(t *testing.T, res map[string]any) {
				want(t, canon(t, res[URNEnterpriseUser]), `{"manager":{"value":"u9"}}`)
			}},
		{"Okta path-less replace: a complex attribute as a whole", base,
			`{"Operations":[{"op":"replace","value":{"name":{"givenName":"Al"},"displayName":"Al S"}}]}`,
			UserSchema, func(t *testing.T, res map[string]any) {
				want(t, canon(t, res["name"]), `{"givenName":"Al"}`)
				want(t, res["displayName"], "Al S")
			}},
		{"replace at a complex path: the sub-attributes named", base,
			`{"Operations":[{"op":"replace","path":"name","value":{"givenName":"Al"}}]}`,
			UserSchema, func(t *testing.T, res map[string]any) {
				want(t, canon(t, res["name"]), `{"familyName":"Smith","givenName":"Al"}`)
			}},
		{"remove of an attribute", base, `{"Operations":[{"op":"remove","path":"name.familyName"}]}`,
			UserSchema, func(t *testing.T, res map[string]any) { want(t, canon(t, res["name"]), `{"givenName":"Alice"}`) }},
		{"remove by filter", base, `{"Operations":[{"op":"remove","path":"emails[type eq \"work\"]"}]}`,
			UserSchema, func(t *testing.T, res map[string]any) { want(t, res["emails"], nil) }},
		{"case-insensitive names", base, `{"Operations":[{"op":"REPLACE","path":"DisplayName","value":"A"}]}`,
			UserSchema, func(t *testing.T, res map[string]any) { want(t, res["displayName"], "A") }},
		{"Entra members add", group, `{"Operations":[{"op":"Add","path":"members","value":[{"value":"u3"},{"value":"u1"}]}]}`,
			GroupSchema, func(t *testing.T, res map[string]any) { want(t, memberIDs(res), "u1 u2 u3") }},
		{"Entra members remove by value", group, `{"Operations":[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]}`,
			GroupSchema, func(t *testing.T, res map[string]any) { want(t, memberIDs(res), "u2") }},
		{"Okta members remove by filter", group, `{"Operations":[{"op":"remove","path":"members[value eq \"u2\"]"}]}`,
			GroupSchema, func(t *testing.T, res map[string]any) { want(t, memberIDs(res), "u1") }},
		{"Okta group rename with id", group, `{"Operations":[{"op":"replace","value":{"id":"g1","displayName":"Sales EMEA"}}]}`,
			GroupSchema, func(t *testing.T, res map[string]any) {
				want(t, res["displayName"], "Sales EMEA")
				want(t, res["id"], "g1")
			}},
		{"replace of all members", group, `{"Operations":[{"op":"replace","path":"members","value":[{"value":"u7"}]}]}`,
			GroupSchema, func(t *testing.T, res map[string]any) { want(t, memberIDs(res), "u7") }},
		{"remove of all members", group, `{"Operations":[{"op":"remove","path":"members"}]}`,
			GroupSchema, func(t *testing.T, res map[string]any) { want(t, res["members"], nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := user(t, tc.resource)
			if err := ApplyPatch(res, tc.schema, ops(t, tc.patch)); err != nil {
				t.Fatal(err)
			}
			tc.check(t, res)
		})
	}
}

func memberIDs(res map[string]any) string {
	s := ""
	for _, m := range asList(res["members"]) {
		if s != "" {
			s += " "
		}
		s += m.(map[string]any)["value"].(string)
	}
	return s
}

func want(t *testing.T, got, w any) {
	t.Helper()
	if !reflect.DeepEqual(got, w) {
		t.Errorf("got %#v, want %#v", got, w)
	}
}

// TestApplyPatchRefusals: each bad operation is a 400 with its scimType.
func TestApplyPatchRefusals(t *testing.T) {
	for _, tc := range []struct{ patch, scimType string }{
		{`{"Operations":[]}`, TypeInvalidValue},
		{`{"Operations":[{"op":"move","path":"title","value":"x"}]}`, TypeInvalidSyntax},
		{`{"Operations":[{"op":"remove"}]}`, TypeNoTarget},
		{`{"Operations":[{"op":"add","value":"x"}]}`, TypeInvalidValue},
		{`{"Operations":[{"op":"add","path":"nosuch","value":"x"}]}`, TypeInvalidPath},
		{`{"Operations":[{"op":"add","path":"name.nosuch","value":"x"}]}`, TypeInvalidPath},
		{`{"Operations":[{"op":"add","path":"urn:example:ext:foo","value":"x"}]}`, TypeInvalidPath},
		{`{"Operations":[{"op":"replace","path":"emails[type eq ","value":"x"}]}`, TypeInvalidPath},
		{`{"Operations":[{"op":"replace","path":"emails[type co \"zz\"].value","value":"x@y"}]}`, TypeNoTarget},
		{`{"Operations":[{"op":"replace","path":"active","value":"perhaps"}]}`, TypeInvalidValue},
		{`{"Operations":[{"op":"replace","path":"title","value":7}]}`, TypeInvalidValue},
		{`{"Operations":[{"op":"replace","path":"groups","value":[]}]}`, TypeMutability},
		{`{"Operations":[{"op":"replace","path":"title[value eq \"x\"]","value":"y"}]}`, TypeInvalidPath},
		{`{"Operations":[{"op":"add","path":"emails","value":[{"nosuch":"x"}]}]}`, TypeInvalidValue},
	} {
		res := user(t, base)
		err := ApplyPatch(res, UserSchema, ops(t, tc.patch))
		var se *Error
		if !errors.As(err, &se) || se.Status != 400 || se.ScimType != tc.scimType {
			t.Errorf("%s: %v, want 400 %s", tc.patch, err, tc.scimType)
		}
	}
}

// FuzzApplyPatch: any operations apply or are refused with a 400, never
// a panic, and what a patch leaves reads back as a user or is refused.
func FuzzApplyPatch(f *testing.F) {
	f.Add(`[{"op":"Replace","path":"active","value":"False"}]`)
	f.Add(`[{"op":"add","path":"emails[type eq \"work\"].value","value":"a@b.c"}]`)
	f.Add(`[{"op":"add","value":{"name.givenName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"d"}}}]`)
	f.Add(`[{"op":"remove","path":"members[value eq \"u\"]"}]`)
	f.Fuzz(func(t *testing.T, s string) {
		var list []PatchOp
		if json.Unmarshal([]byte(s), &list) != nil {
			return
		}
		res := map[string]any{}
		_ = json.Unmarshal([]byte(base), &res)
		if err := ApplyPatch(res, UserSchema, list); err != nil {
			var se *Error
			if !errors.As(err, &se) || se.Status != 400 {
				t.Fatalf("%s: %v is not a 400", s, err)
			}
			return
		}
		if _, err := readUser(res); err != nil {
			var se *Error
			if !errors.As(err, &se) || se.Status != 400 {
				t.Fatalf("%s: reading back: %v", s, err)
			}
		}
	})
}
