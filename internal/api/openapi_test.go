package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Servers []struct{ URL string }                `json:"servers"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

type operation struct {
	OperationID string                     `json:"operationId"`
	Parameters  []json.RawMessage          `json:"parameters"`
	Security    *[]map[string][]string     `json:"security"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) (openAPIDoc, map[string]any) {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(openAPIDocument, &raw); err != nil {
		t.Fatal(err)
	}
	return doc, raw
}

// TestOpenAPIDescribesEveryRoute walks the route table: every route must be
// in the document, and the document must describe no route that is not.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("servers %+v, want one at /api/v1", doc.Servers)
	}
	base := doc.Servers[0].URL

	inTable := map[string]bool{}
	for _, rt := range routes(&server{}) {
		path, ok := strings.CutPrefix(rt.pattern, base)
		if !ok {
			t.Errorf("route %s %s is outside %s", rt.method, rt.pattern, base)
			continue
		}
		key := strings.ToLower(rt.method) + " " + path
		if inTable[key] {
			t.Errorf("route %s %s listed twice", rt.method, rt.pattern)
		}
		inTable[key] = true
		if _, ok := doc.Paths[path][strings.ToLower(rt.method)]; !ok {
			t.Errorf("route %s %s is missing from openapi.json", rt.method, rt.pattern)
		}
	}
	for path, item := range doc.Paths {
		for _, m := range httpMethods {
			if _, ok := item[m]; ok && !inTable[m+" "+path] {
				t.Errorf("openapi.json describes %s %s, which routes.go does not serve", strings.ToUpper(m), base+path)
			}
		}
	}
}

// TestOpenAPIOperationsAreComplete: unique operation IDs, every path
// parameter declared, every protected operation documents 401 and 503.
func TestOpenAPIOperationsAreComplete(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	paramName := regexp.MustCompile(`\{([^}]+)\}`)
	seen := map[string]bool{}
	for path, item := range doc.Paths {
		var shared []json.RawMessage
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				t.Fatalf("%s parameters: %v", path, err)
			}
		}
		for _, m := range httpMethods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", m, path, err)
			}
			if op.OperationID == "" || seen[op.OperationID] {
				t.Errorf("%s %s: operationId %q missing or repeated", m, path, op.OperationID)
			}
			seen[op.OperationID] = true
			var params strings.Builder
			for _, p := range append(append([]json.RawMessage{}, shared...), op.Parameters...) {
				params.Write(p)
			}
			for _, name := range paramName.FindAllStringSubmatch(path, -1) {
				if !strings.Contains(params.String(), `"#/components/parameters/`+name[1]+`"`) {
					t.Errorf("%s %s: path parameter %s not declared", m, path, name[1])
				}
			}
			public := op.Security != nil && len(*op.Security) == 0
			for _, code := range []string{"401", "503"} {
				if _, ok := op.Responses[code]; !ok && !public {
					t.Errorf("%s %s: no %s response", m, path, code)
				}
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s %s: no responses", m, path)
			}
		}
	}
}

// TestOpenAPIReferencesResolve: every $ref points at a component that exists.
func TestOpenAPIReferencesResolve(t *testing.T) {
	_, raw := loadOpenAPI(t)
	components, _ := raw["components"].(map[string]any)
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
				kind, _ := components[parts[0]].(map[string]any)
				if !strings.HasPrefix(ref, "#/components/") || len(parts) != 2 || kind[parts[1]] == nil {
					t.Errorf("%s: $ref %q does not resolve", where, ref)
				}
			}
			for k, child := range v {
				walk(where+"/"+k, child)
			}
		case []any:
			for _, child := range v {
				walk(where+"[]", child)
			}
		}
	}
	walk("#", raw)
}

func TestOpenAPIIsServedWithoutToken(t *testing.T) {
	w := httptest.NewRecorder()
	New(Config{}).ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" || !bytes.Equal(w.Body.Bytes(), openAPIDocument) {
		t.Errorf("GET openapi.json: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
}
