package scim

import (
	"net/http"
	"strings"

	"gatehouse/internal/admin"
)

// Discovery (RFC 7644 section 4): what Gatehouse's SCIM endpoint supports,
// its resource types and their schemas.

func (s *server) spConfig(w http.ResponseWriter, r *http.Request, _ admin.Principal, accountID string) error {
	base := s.baseURL(accountID)
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{URNSPConfig},
		"documentationUri": "https://github.com/gatehouse/gatehouse#provisioning-with-scim",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []any{map[string]any{"type": "oauthbearertoken", "name": "Bearer token",
			"description": "A SCIM token an admin of the account made in Gatehouse (Authentication, Provisioning).", "primary": true}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	})
	return nil
}

func resourceTypes(base string) []map[string]any {
	return []map[string]any{
		{"schemas": []string{URNResourceType}, "id": "User", "name": "User", "endpoint": "/Users", "description": "User Account",
			"schema": URNUser, "schemaExtensions": []any{map[string]any{"schema": URNEnterpriseUser, "required": false}},
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"}},
		{"schemas": []string{URNResourceType}, "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Group",
			"schema": URNGroup, "meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"}},
	}
}

func (s *server) resourceTypes(w http.ResponseWriter, r *http.Request, _ admin.Principal, accountID string) error {
	all := resourceTypes(s.baseURL(accountID))
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{URNListResponse}, "totalResults": len(all), "startIndex": 1,
		"itemsPerPage": len(all), "Resources": all})
	return nil
}

func (s *server) resourceType(w http.ResponseWriter, r *http.Request, _ admin.Principal, accountID string) error {
	for _, t := range resourceTypes(s.baseURL(accountID)) {
		if strings.EqualFold(t["id"].(string), r.PathValue("id")) {
			writeJSON(w, http.StatusOK, t)
			return nil
		}
	}
	return &Error{Status: http.StatusNotFound, Detail: "no such resource type"}
}

func schemaResource(sc *Schema, base string) map[string]any {
	return map[string]any{"schemas": []string{URNSchema}, "id": sc.ID, "name": sc.Name, "description": sc.Description,
		"attributes": sc.Attributes, "meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + sc.ID}}
}

var allSchemas = []*Schema{UserSchema, EnterpriseUserSchema, GroupSchema}

func (s *server) schemas(w http.ResponseWriter, r *http.Request, _ admin.Principal, accountID string) error {
	base := s.baseURL(accountID)
	out := make([]any, len(allSchemas))
	for i, sc := range allSchemas {
		out[i] = schemaResource(sc, base)
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{URNListResponse}, "totalResults": len(out), "startIndex": 1,
		"itemsPerPage": len(out), "Resources": out})
	return nil
}

func (s *server) schema(w http.ResponseWriter, r *http.Request, _ admin.Principal, accountID string) error {
	for _, sc := range allSchemas {
		if strings.EqualFold(sc.ID, r.PathValue("id")) {
			writeJSON(w, http.StatusOK, schemaResource(sc, s.baseURL(accountID)))
			return nil
		}
	}
	return &Error{Status: http.StatusNotFound, Detail: "no such schema"}
}
