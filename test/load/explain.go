package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// referenceRe finds the audit reference a refusal page quotes.
var referenceRe = regexp.MustCompile(`Reference: (evt_[0-9a-z]+)`)

// explainer returns what adds, to each failure quoting an audit
// reference, the reason the audit log recorded for it: the page says only
// that the sign-in failed, the audit event says why.
func explainer(cl *cluster, accountID string) func(ctx context.Context, failures []string) []string {
	return func(ctx context.Context, failures []string) []string {
		var list struct {
			Items []struct {
				ID      string            `json:"id"`
				Action  string            `json:"action"`
				Reason  string            `json:"reason"`
				Details map[string]string `json:"details"`
			} `json:"items"`
		}
		q := url.Values{"outcome": {"failure"}, "limit": {"100"}}
		if err := cl.api(ctx, "GET", "/api/v1/accounts/"+accountID+"/audit-events?"+q.Encode(), nil, &list, http.StatusOK); err != nil {
			return failures
		}
		out := make([]string, len(failures))
		for i, f := range failures {
			out[i] = f
			m := referenceRe.FindStringSubmatch(f)
			if m == nil {
				continue
			}
			for _, ev := range list.Items {
				if ev.ID == m[1] {
					out[i] = fmt.Sprintf("%s\n***     audit %s: %s (%s)", f, ev.Action, ev.Reason, strings.TrimSpace(ev.Details["reason"]))
				}
			}
		}
		return out
	}
}
