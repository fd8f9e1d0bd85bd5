package scim

import (
	"encoding/json"
	"errors"
	"testing"
)

func user(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

const alice = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"user_1","userName":"Alice@Contoso.com",
 "externalId":"ABC-1","displayName":"Alice Smith","active":true,"title":"Engineer",
 "name":{"givenName":"Alice","familyName":"Smith"},
 "emails":[{"value":"alice@contoso.com","type":"work","primary":true},{"value":"al@home.example","type":"home"}],
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","employeeNumber":"42"},
 "meta":{"lastModified":"2026-05-01T10:00:00Z"}}`

// TestFilterMatches: every operator, and/or/not, grouping, value paths,
// URN-qualified paths, case-insensitive names and values (caseExact
// externalId and id excepted).
func TestFilterMatches(t *testing.T) {
	u := user(t, alice)
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{`userName eq "alice@contoso.com"`, true},
		{`USERNAME EQ "ALICE@CONTOSO.COM"`, true},
		{`userName eq "bob@contoso.com"`, false},
		{`userName ne "bob@contoso.com"`, true},
		{`userName co "contoso"`, true},
		{`userName sw "ali"`, true},
		{`userName sw "lice"`, false},
		{`userName ew ".com"`, true},
		{`externalId eq "ABC-1"`, true},
		{`externalId eq "abc-1"`, false}, // caseExact
		{`id eq "user_1"`, true},
		{`id eq "USER_1"`, false},
		{`displayName eq "alice smith"`, true},
		{`emails eq "al@home.example"`, true},
		{`emails.value eq "alice@contoso.com"`, true},
		{`emails co "home"`, true},
		{`emails[type eq "work" and value co "contoso"]`, true},
		{`emails[type eq "work" and value co "home"]`, false},
		{`emails[type eq "home"]`, true},
		{`emails.type eq "other"`, false},
		{`name.givenName eq "Alice"`, true},
		{`name.familyName sw "S" and title eq "engineer"`, true},
		{`userName eq "x" or displayName co "smith"`, true},
		{`userName eq "x" or displayName co "jones"`, false},
		{`not (userName eq "x")`, true},
		{`not(userName co "alice")`, false},
		{`(userName eq "x" or title pr) and active eq true`, true},
		{`active eq false`, false},
		{`nickName pr`, false},
		{`title pr`, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice@contoso.com"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "43"`, false},
		{`meta.lastModified gt "2026-01-01T00:00:00Z"`, true},
		{`meta.lastModified lt "2026-01-01T00:00:00Z"`, false},
		{`userName eq "a" and userName eq "b" or userName co "alice"`, true}, // and binds tighter
		{`nickName eq null`, true},
		{`userName eq "al\u0069ce@contoso.com"`, true},
	} {
		e, err := ParseFilter(tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := Match(e, u, UserSchema); got != tc.want {
			t.Errorf("%s: matched %v, want %v", tc.filter, got, tc.want)
		}
	}
}

// TestFilterRefusals: a bad filter is a 400 invalidFilter, never a panic.
func TestFilterRefusals(t *testing.T) {
	for _, f := range []string{
		``, `userName`, `userName eq`, `userName xx "a"`, `userName eq "a`, `(userName eq "a"`, `userName eq "a")`,
		`emails[type eq "work"`, `userName eq a`, `active gt true`, `userName gt null`, `1abc eq "x"`,
		`userName eq "a" and`, `not userName eq "a"`, `emails.value[type eq "x"]`, `userName eq "\x"`,
		`userName eq inf`, `userName eq 0x10`, "userName eq \"\xff\"",
		string(make([]byte, maxFilterLength+1)),
		deep(maxFilterDepth + 2),
	} {
		_, err := ParseFilter(f)
		var se *Error
		if !errors.As(err, &se) || se.Status != 400 || se.ScimType != TypeInvalidFilter {
			t.Errorf("%.60q: %v, want 400 invalidFilter", f, err)
		}
	}
}

func deep(n int) string {
	s := `userName eq "a"`
	for range n {
		s = "(" + s + ")"
	}
	return s
}

// FuzzFilter: any input parses or is refused as invalidFilter, and what
// parses evaluates without panicking.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{`userName eq "a"`, `emails[type eq "work" and value co "@"]`, `not (a pr) or b.c gt 1.5`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`, `((a eq true))`} {
		f.Add(s)
	}
	u := map[string]any{}
	_ = json.Unmarshal([]byte(alice), &u)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseFilter(s)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.ScimType != TypeInvalidFilter {
				t.Fatalf("%q: %v is not invalidFilter", s, err)
			}
			return
		}
		Match(e, u, UserSchema)
	})
}
