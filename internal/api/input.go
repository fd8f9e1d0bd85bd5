package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"gatehouse"
)

// Page sizes of listings; one more item than asked is fetched to know
// whether another page follows, so the maximum stays below the store's.
const (
	defaultLimit = 50
	maxLimit     = 100
)

// list is a page of a listing. NextAfter, when set, is the "after" of the
// next page.
type list[T any] struct {
	Items     []T    `json:"items"`
	NextAfter string `json:"next_after,omitempty"`
}

// queryOf checks a listing's query string: only the named parameters, each
// at most once, are allowed, so a misspelt filter is an error rather than a
// listing of everything.
func queryOf(r *http.Request, allowed ...string) (url.Values, error) {
	q := r.URL.Query()
	var fields []gatehouse.FieldError
	for k, vs := range q {
		switch {
		case !slices.Contains(allowed, k):
			fields = append(fields, gatehouse.FieldError{Field: k, Message: "is not a parameter of this listing"})
		case len(vs) > 1:
			fields = append(fields, gatehouse.FieldError{Field: k, Message: "must be given at most once"})
		}
	}
	if len(fields) > 0 {
		return nil, badRequest("the query string has unknown or repeated parameters", fields...)
	}
	return q, nil
}

// listPage reads a plain listing's query: limit and after, nothing else.
func listPage(r *http.Request) (gatehouse.Page, int, error) {
	q, err := queryOf(r, "limit", "after")
	if err != nil {
		return gatehouse.Page{}, 0, err
	}
	return pageOf(q)
}

// pageOf reads limit and after. The returned Page asks the store for one
// item more than the client did.
func pageOf(q url.Values) (gatehouse.Page, int, error) {
	limit := defaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return gatehouse.Page{}, 0, badRequest("limit must be a whole number from 1 to 100",
				gatehouse.FieldError{Field: "limit", Message: "must be a whole number from 1 to 100"})
		}
		limit = n
	}
	return gatehouse.Page{Limit: limit + 1, After: q.Get("after")}, limit, nil
}

// paged trims items fetched with pageOf's Page to limit and sets NextAfter
// when more follow.
func paged[T any](items []T, limit int, id func(T) string) list[T] {
	if items == nil {
		items = []T{}
	}
	if len(items) <= limit {
		return list[T]{Items: items}
	}
	items = items[:limit]
	return list[T]{Items: items, NextAfter: id(items[limit-1])}
}
