package api

import (
	"net/http"
	"testing"
	"time"
)

// Which answers a retry with the same Idempotency-Key gets again without
// running: those it would get again anyway.
func TestKeepsAnswer(t *testing.T) {
	for status, want := range map[int]bool{
		http.StatusOK: true, http.StatusCreated: true, http.StatusNoContent: true,
		http.StatusBadRequest: true, http.StatusUnsupportedMediaType: true,
		http.StatusForbidden: false, http.StatusNotFound: false, http.StatusConflict: false,
		http.StatusPreconditionFailed: false, http.StatusUnprocessableEntity: false, http.StatusTooManyRequests: false,
		http.StatusInternalServerError: false, http.StatusServiceUnavailable: false,
	} {
		if got := keepsAnswer(status); got != want {
			t.Errorf("keepsAnswer(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestIfMatchDecisions(t *testing.T) {
	read := time.Date(2026, 12, 6, 8, 0, 0, 123000, time.UTC)
	current := etagOf("usr_1", read)
	cases := []struct {
		header  string
		bad     bool
		allows  bool
		version time.Time
	}{
		{header: current, allows: true, version: read},
		{header: `"stale", ` + current, allows: true, version: read},
		{header: "*", allows: true},
		{header: `"stale"`, allows: false, version: read},
		{header: "W/" + current, allows: false, version: read},
		{header: etagOf("usr_2", read), allows: false, version: read},
		{header: "unquoted", bad: true},
		{header: `"a"b"`, bad: true},
		{header: " , ", bad: true},
	}
	for _, tc := range cases {
		p, err := parseIfMatch(tc.header)
		if (err != nil) != tc.bad {
			t.Errorf("%q: error %v, want bad %v", tc.header, err, tc.bad)
			continue
		}
		if tc.bad {
			continue
		}
		if got := p.allows(current); got != tc.allows {
			t.Errorf("%q allows the current version: %v, want %v", tc.header, got, tc.allows)
		}
		if got := p.version(read); !got.Equal(tc.version) {
			t.Errorf("%q version %v, want %v", tc.header, got, tc.version)
		}
	}
	if etagOf("usr_1", read) == etagOf("usr_1", read.Add(time.Microsecond)) {
		t.Error("an edit a microsecond later keeps the ETag")
	}
}
