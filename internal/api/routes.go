package api

import "net/http"

// route is one method and path of the API.
type route struct {
	method  string
	pattern string
	handler http.Handler
}

// routes lists every route of the API. The OpenAPI document must describe
// exactly these (openapi_test.go checks it).
func routes(s *server) []route {
	a := s.authed
	// once makes a create honour Idempotency-Key (idempotency.go).
	once := s.idempotent
	out := []route{
		{"GET", "/api/v1/openapi.json", handleOpenAPI()},

		{"GET", "/api/v1/partitions", a(handlePartitionList(s))},
		{"POST", "/api/v1/partitions", a(once(handlePartitionCreate(s)))},
		{"GET", "/api/v1/partitions/{partition_id}", a(handlePartitionGet(s))},
		{"PATCH", "/api/v1/partitions/{partition_id}", a(handlePartitionUpdate(s))},
		{"DELETE", "/api/v1/partitions/{partition_id}", a(handlePartitionDelete(s))},

		{"GET", "/api/v1/accounts", a(handleAccountList(s))},
		{"POST", "/api/v1/accounts", a(once(handleAccountCreate(s)))},
		{"GET", "/api/v1/accounts/{account_id}", a(handleAccountGet(s))},
		{"PATCH", "/api/v1/accounts/{account_id}", a(handleAccountUpdate(s))},
		{"DELETE", "/api/v1/accounts/{account_id}", a(handleAccountDelete(s))},

		{"GET", "/api/v1/accounts/{account_id}/users", a(handleUserList(s))},
		{"POST", "/api/v1/accounts/{account_id}/users", a(once(handleUserCreate(s)))},
		{"GET", "/api/v1/accounts/{account_id}/users/{user_id}", a(handleUserGet(s))},
		{"PATCH", "/api/v1/accounts/{account_id}/users/{user_id}", a(handleUserUpdate(s))},
		{"DELETE", "/api/v1/accounts/{account_id}/users/{user_id}", a(handleUserDelete(s))},
		{"POST", "/api/v1/accounts/{account_id}/users/{user_id}/password", a(handleUserSetPassword(s))},
		{"POST", "/api/v1/accounts/{account_id}/user-imports", a(once(handleUserImport(s)))},

		{"GET", "/api/v1/accounts/{account_id}/groups", a(handleGroupList(s))},
		{"POST", "/api/v1/accounts/{account_id}/groups", a(once(handleGroupCreate(s)))},
		{"GET", "/api/v1/accounts/{account_id}/groups/{group_id}", a(handleGroupGet(s))},
		{"PATCH", "/api/v1/accounts/{account_id}/groups/{group_id}", a(handleGroupUpdate(s))},
		{"DELETE", "/api/v1/accounts/{account_id}/groups/{group_id}", a(handleGroupDelete(s))},
		{"GET", "/api/v1/accounts/{account_id}/groups/{group_id}/members", a(handleMemberList(s))},
		{"POST", "/api/v1/accounts/{account_id}/groups/{group_id}/members", a(once(handleMemberAdd(s)))},
		{"DELETE", "/api/v1/accounts/{account_id}/groups/{group_id}/members/{user_id}", a(handleMemberRemove(s))},

		{"GET", "/api/v1/clients", a(handleClientList(s))},
		{"POST", "/api/v1/clients", a(once(handleClientCreate(s)))},
		{"GET", "/api/v1/clients/{client_id}", a(handleClientGet(s))},
		{"PATCH", "/api/v1/clients/{client_id}", a(handleClientUpdate(s))},
		{"DELETE", "/api/v1/clients/{client_id}", a(handleClientDelete(s))},
		{"POST", "/api/v1/clients/{client_id}/secret", a(once(handleClientRotateSecret(s)))},

		{"GET", "/api/v1/sso-presets", a(handleSSOPresetList(s))},

		{"GET", "/api/v1/accounts/{account_id}/exemptions", a(handleExemptionList(s))},
		{"POST", "/api/v1/accounts/{account_id}/exemptions", a(once(handleExemptionCreate(s)))},
		{"GET", "/api/v1/accounts/{account_id}/exemption-candidates", a(handleExemptionCandidates(s))},
		{"GET", "/api/v1/accounts/{account_id}/exemptions/{list_id}", a(handleExemptionGet(s))},
		{"PATCH", "/api/v1/accounts/{account_id}/exemptions/{list_id}", a(handleExemptionUpdate(s))},
		{"DELETE", "/api/v1/accounts/{account_id}/exemptions/{list_id}", a(handleExemptionDelete(s))},
		{"POST", "/api/v1/accounts/{account_id}/sso/break-glass", a(handleBreakGlass(s))},

		{"GET", "/api/v1/audit-events", a(handleAuditList(s))},
		{"GET", "/api/v1/accounts/{account_id}/audit-events", a(handleAccountAuditList(s))},
		{"GET", "/api/v1/accounts/{account_id}/sign-ins", a(handleSignInList(s))},
	}
	// SSO configurations of accounts and of partitions: one set of handlers.
	out = append(out, ssoConfigRoutes(s, "/api/v1/accounts/{account_id}", accountOwner)...)
	out = append(out, setupLinkRoutes(s)...)
	out = append(out, scimRoutes(s)...)
	out = append(out, recoveryRoutes(s)...)
	out = append(out, domainRoutes(s)...)
	out = append(out, apiTokenRoutes(s)...)
	out = append(out, webhookRoutes(s)...)
	return append(out, ssoConfigRoutes(s, "/api/v1/partitions/{partition_id}", partitionOwner)...)
}
