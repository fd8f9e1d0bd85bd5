package store

import "gatehouse"

// Queries whose plans scale_test.go checks.
const (
	ListUsersSQL    = listUsersSQL
	AccountUsersSQL = accountUsersSQL
	UserByEmailSQL  = userByEmailSQL
)

func SignInsQuery(f gatehouse.SignInFilter, page gatehouse.Page) (string, []any) {
	return signInsQuery(f, page)
}
