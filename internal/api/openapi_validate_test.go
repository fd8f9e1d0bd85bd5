package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"mime"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// apiBase is where the document's paths are served (its one server).
const apiBase = "/api/v1"

// openAPISpec is openapi.json as generic JSON, read once.
var openAPISpec = sync.OnceValues(func() (map[string]any, error) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	return doc, nil
})

// checkAgainstOpenAPI fails the test when a JSON response to method path
// does not match the schema openapi.json gives for that operation, status
// and content type, or when the document does not list the status. A path
// or method the document does not describe (a test of an unknown route) is
// not checked.
func checkAgainstOpenAPI(t *testing.T, method, path string, res response) {
	t.Helper()
	doc, err := openAPISpec()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range responseMismatches(doc, method, path, res) {
		t.Errorf("%s %s: %d response does not match openapi.json: %s", method, path, res.Status, m)
	}
}

// responseMismatches lists how res differs from what the document says of
// method path.
func responseMismatches(doc map[string]any, method, path string, res response) []string {
	template, op := operationOf(doc, method, path)
	if op == nil {
		return nil
	}
	responses, _ := op["responses"].(map[string]any)
	described, ok := responses[strconv.Itoa(res.Status)]
	if !ok {
		described, ok = responses["default"]
	}
	if !ok {
		return []string{fmt.Sprintf("status %d is not among the responses of %s %s", res.Status, strings.ToUpper(method), template)}
	}
	v := validator{doc: doc}
	resolved, _ := v.resolve(described).(map[string]any)
	content, _ := resolved["content"].(map[string]any)
	mediaType, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if len(res.Body) == 0 {
		if len(content) > 0 {
			return []string{"no body, but the document describes one"}
		}
		return nil
	}
	if mediaType != "application/json" && mediaType != "application/problem+json" {
		return nil
	}
	media, ok := content[mediaType].(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("a %s body, which the document does not describe for status %d", mediaType, res.Status)}
	}
	dec := json.NewDecoder(bytes.NewReader(res.Body))
	dec.UseNumber()
	var body any
	if err := dec.Decode(&body); err != nil {
		return []string{fmt.Sprintf("the body is not JSON: %v", err)}
	}
	v.check("$", media["schema"], body)
	return v.mismatches
}

// operationOf finds the document's path template and operation for a
// request path, query and all; a literal segment wins over a parameter, as
// in ServeMux.
func operationOf(doc map[string]any, method, path string) (string, map[string]any) {
	path, _, _ = strings.Cut(path, "?")
	rest, ok := strings.CutPrefix(path, apiBase)
	if !ok {
		return "", nil
	}
	paths, _ := doc["paths"].(map[string]any)
	segments := strings.Split(rest, "/")
	best, bestLiterals := "", -1
	for template := range paths {
		if literals, ok := matchTemplate(strings.Split(template, "/"), segments); ok && literals > bestLiterals {
			best, bestLiterals = template, literals
		}
	}
	item, _ := paths[best].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	return best, op
}

// matchTemplate says whether a path's segments fit a template's, and how
// many of the template's segments are literal.
func matchTemplate(template, segments []string) (int, bool) {
	if len(template) != len(segments) {
		return 0, false
	}
	literals := 0
	for i, part := range template {
		switch {
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			if segments[i] == "" {
				return 0, false
			}
		case part == segments[i]:
			literals++
		default:
			return 0, false
		}
	}
	return literals, true
}

// validator checks JSON values against the JSON Schema subset openapi.json
// uses, collecting every mismatch with where it is. A keyword it does not
// know is a mismatch too, so a schema it cannot check never passes.
type validator struct {
	doc        map[string]any
	mismatches []string
}

// annotations are keywords that say nothing about validity (format is an
// annotation in OpenAPI 3.1's default dialect).
var annotations = []string{"description", "examples", "format", "title", "deprecated", "default", "readOnly", "writeOnly"}

func (v *validator) fail(at, format string, args ...any) {
	v.mismatches = append(v.mismatches, at+": "+fmt.Sprintf(format, args...))
}

// resolve follows a response's $ref into the document's components.
func (v *validator) resolve(node any) any {
	for {
		m, _ := node.(map[string]any)
		ref, ok := m["$ref"].(string)
		if !ok {
			return node
		}
		node = v.pointer(ref)
	}
}

// pointer returns what a local JSON pointer ("#/components/schemas/X")
// names, or nil.
func (v *validator) pointer(ref string) any {
	var node any = v.doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, _ := node.(map[string]any)
		node = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
	}
	return node
}

// check validates value, found at at, against schema.
func (v *validator) check(at string, schema, value any) {
	s, ok := schema.(map[string]any)
	if !ok {
		if b, isBool := schema.(bool); isBool && !b {
			v.fail(at, "not allowed here")
		} else if !isBool {
			v.fail(at, "the document's schema here is not an object: %v", schema)
		}
		return
	}
	keywords := make([]string, 0, len(s))
	for k := range s {
		keywords = append(keywords, k)
	}
	sort.Strings(keywords)
	for _, k := range keywords {
		rule := s[k]
		switch k {
		case "$ref":
			ref, _ := rule.(string)
			target := v.pointer(ref)
			if target == nil {
				v.fail(at, "$ref %q does not resolve", ref)
				continue
			}
			v.check(at, target, value)
		case "type":
			v.checkType(at, rule, value)
		case "enum":
			list, _ := rule.([]any)
			if !slices.ContainsFunc(list, func(e any) bool { return sameJSON(e, value) }) {
				v.fail(at, "%s is not one of %s", show(value), show(list))
			}
		case "const":
			if !sameJSON(rule, value) {
				v.fail(at, "%s is not %s", show(value), show(rule))
			}
		case "properties", "required", "additionalProperties":
			// checked together, below
		case "items":
			if arr, ok := value.([]any); ok {
				for i, e := range arr {
					v.check(fmt.Sprintf("%s[%d]", at, i), rule, e)
				}
			}
		case "minItems", "maxItems":
			if arr, ok := value.([]any); ok {
				v.checkBound(at, k, rule, big.NewRat(int64(len(arr)), 1), "items")
			}
		case "minLength", "maxLength":
			if str, ok := value.(string); ok {
				v.checkBound(at, k, rule, big.NewRat(int64(utf8.RuneCountInString(str)), 1), "characters")
			}
		case "minimum", "maximum":
			if n, ok := value.(json.Number); ok {
				if r, ok := new(big.Rat).SetString(n.String()); ok {
					v.checkBound(at, k, rule, r, "")
				}
			}
		case "allOf", "anyOf", "oneOf":
			v.checkCombination(at, k, rule, value)
		default:
			if !slices.Contains(annotations, k) {
				v.fail(at, "the validator does not know the keyword %q; teach it before the document uses it", k)
			}
		}
	}
	if obj, ok := value.(map[string]any); ok {
		v.checkObject(at, s, obj)
	}
}

// checkObject applies properties, required and additionalProperties, and
// refuses write-only properties: a response never carries them.
func (v *validator) checkObject(at string, s map[string]any, obj map[string]any) {
	props, _ := s["properties"].(map[string]any)
	required, _ := s["required"].([]any)
	for _, name := range required {
		if _, ok := obj[name.(string)]; !ok {
			v.fail(at, "required property %q is missing", name)
		}
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		where := at + "." + name
		prop, declared := props[name]
		switch {
		case declared:
			if p, _ := prop.(map[string]any); p["writeOnly"] == true {
				v.fail(where, "write-only, yet in a response")
			}
			v.check(where, prop, obj[name])
		case s["additionalProperties"] != nil:
			v.check(where, s["additionalProperties"], obj[name])
		}
	}
}

// checkType accepts a type or a list of types (how 3.1 says nullable).
func (v *validator) checkType(at string, rule, value any) {
	var types []string
	switch r := rule.(type) {
	case string:
		types = []string{r}
	case []any:
		for _, t := range r {
			s, _ := t.(string)
			types = append(types, s)
		}
	}
	if !slices.Contains(types, typeOf(value)) && !(typeOf(value) == "integer" && slices.Contains(types, "number")) {
		v.fail(at, "%s is a JSON %s, want %s", show(value), typeOf(value), strings.Join(types, " or "))
	}
}

// typeOf names a decoded JSON value's type as JSON Schema does; an
// integral number is an integer.
func typeOf(value any) string {
	switch x := value.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if r, ok := new(big.Rat).SetString(x.String()); ok && r.IsInt() {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", value)
}

func (v *validator) checkBound(at, keyword string, rule any, got *big.Rat, unit string) {
	limit, ok := new(big.Rat).SetString(fmt.Sprint(rule))
	if !ok {
		v.fail(at, "%s %v is not a number", keyword, rule)
		return
	}
	if c := got.Cmp(limit); strings.HasPrefix(keyword, "min") && c < 0 || strings.HasPrefix(keyword, "max") && c > 0 {
		v.fail(at, "%s, %s is %s", strings.TrimSpace(got.RatString()+" "+unit), keyword, limit.RatString())
	}
}

// checkCombination applies allOf (every one), anyOf (at least one) and
// oneOf (exactly one), reporting the mismatches of the alternatives when
// none fits.
func (v *validator) checkCombination(at, keyword string, rule, value any) {
	list, _ := rule.([]any)
	var fits int
	var why []string
	for _, sub := range list {
		w := validator{doc: v.doc}
		w.check(at, sub, value)
		if len(w.mismatches) == 0 {
			fits++
		} else if keyword == "allOf" {
			v.mismatches = append(v.mismatches, w.mismatches...)
		}
		why = append(why, w.mismatches...)
	}
	switch {
	case keyword == "anyOf" && fits == 0, keyword == "oneOf" && fits == 0:
		v.fail(at, "fits none of %s: %s", keyword, strings.Join(why, "; "))
	case keyword == "oneOf" && fits > 1:
		v.fail(at, "fits %d of oneOf, want exactly one", fits)
	}
}

// sameJSON compares two decoded JSON values; numbers by value.
func sameJSON(a, b any) bool {
	if ta, tb := typeOf(a), typeOf(b); ta == "integer" || ta == "number" || tb == "integer" || tb == "number" {
		ra, okA := new(big.Rat).SetString(fmt.Sprint(a))
		rb, okB := new(big.Rat).SetString(fmt.Sprint(b))
		return okA && okB && ra.Cmp(rb) == 0
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// show renders a value for a message, cut short.
func show(value any) string {
	b, _ := json.Marshal(value)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// TestOpenAPIValidatorFindsDrift: the check the harness runs on every
// response reports each kind of drift, and passes what the document allows,
// so a broken validator cannot pass silently.
func TestOpenAPIValidatorFindsDrift(t *testing.T) {
	doc, err := openAPISpec()
	if err != nil {
		t.Fatal(err)
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	problemHeader := http.Header{"Content-Type": {"application/problem+json"}}
	for _, tc := range []struct {
		name, method, path string
		res                response
		want               []string
	}{
		{"a problem as documented", "GET", "/api/v1/partitions/p1",
			response{404, problemHeader, []byte(`{"type":"about:blank","title":"Not Found","status":404}`)}, nil},
		{"a problem with a mistyped field", "GET", "/api/v1/partitions/p1?x=1",
			response{404, problemHeader, []byte(`{"type":"about:blank","title":"Not Found","status":"404"}`)},
			[]string{`$.status: "404" is a JSON string, want integer`}},
		{"a status the operation does not list", "GET", "/api/v1/partitions/p1",
			response{409, problemHeader, []byte(`{"type":"about:blank","title":"Conflict","status":409}`)},
			[]string{"status 409 is not among the responses of GET /partitions/{partition_id}"}},
		{"a missing required property, an enum and a bound", "GET", "/api/v1/accounts/a1/sso-configs",
			response{200, jsonHeader, []byte(`{"items":[{"id":"s","name":"n","account_id":"a1","partition_id":"","protocol":"ws-fed","preset":"",
				"status":"draft","enabled":false,"certificates":[],"sp":{"entity_id":"e","acs_url":"a","redirect_uri":"r","metadata_url":"m"},"problems":[],
				"last_test":null,"test_current":false,"test_url":"u","idp_changed_at":"t","created_at":"t","updated_at":"t",
				"saml":{"idp_entity_id":"","sso_url":"","sso_binding":"post","certificates":[],"name_id_format":"","sign_requests":false,
				"allow_idp_initiated":false,"clock_skew_seconds":9999},
				"oidc":{"issuer":"","client_id":"","scopes":[],"email_claim":"email","allowed_algorithms":[]}}],"next_after":""}`)},
			[]string{`$.items[0].oidc: required property "client_secret_set" is missing`,
				`$.items[0].protocol: "ws-fed" is not one of ["saml","oidc"]`,
				`$.items[0].saml.clock_skew_seconds: 9999, maximum is 300`}},
		{"a body where none is documented", "DELETE", "/api/v1/partitions/p1",
			response{204, jsonHeader, []byte(`{}`)}, []string{"a application/json body, which the document does not describe for status 204"}},
		{"a route the document does not describe", "GET", "/api/v1/nowhere",
			response{404, problemHeader, []byte(`{}`)}, nil},
	} {
		got := responseMismatches(doc, tc.method, tc.path, tc.res)
		for _, want := range tc.want {
			if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, want) }) {
				t.Errorf("%s: no mismatch %q among %q", tc.name, want, got)
			}
		}
		if tc.want == nil && got != nil {
			t.Errorf("%s: mismatches %q, want none", tc.name, got)
		}
	}

	v := validator{doc: doc}
	v.check("$", map[string]any{"type": "string", "pattern": "^a"}, "b")
	if len(v.mismatches) != 1 || !strings.Contains(v.mismatches[0], `does not know the keyword "pattern"`) {
		t.Errorf("an unknown keyword: %q", v.mismatches)
	}
}
