package server

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/netip"

	"gatehouse/internal/clientaddr"
)

// RequestIDHeader carries a request's ID: every response has one, and a
// trusted proxy may hand its own in.
const RequestIDHeader = "X-Request-ID"

// MaxRequestIDLen bounds an ID taken from a proxy.
const MaxRequestIDLen = 128

// KeepRequestID reports whether the X-Request-ID values a request arrived
// with may be its ID: only when they came from a trusted proxy (anyone
// else could plant an ID to confuse the logs) and are one short value of
// visible ASCII (no spaces or control characters, at most
// MaxRequestIDLen bytes). Anything else gets a fresh ID.
func KeepRequestID(values []string, fromTrustedProxy bool) bool {
	if !fromTrustedProxy || len(values) != 1 {
		return false
	}
	v := values[0]
	if v == "" || len(v) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

type requestIDKey struct{}

// RequestID returns the ID of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestIDs gives each request its ID (KeepRequestID, else a fresh
// random one), in its context and in the response's X-Request-ID. It runs
// before clientaddr.Middleware, while RemoteAddr is still the TCP peer.
func requestIDs(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values(RequestIDHeader)
		id := ""
		if KeepRequestID(values, clientaddr.FromTrustedProxy(r.RemoteAddr, trusted)) {
			id = values[0]
		} else {
			id = rand.Text()
		}
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		r.Header.Set(RequestIDHeader, id)
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r)
	})
}

// WithRequestIDs returns log writing every record logged with a request's
// context (InfoContext, WarnContext, ...) with that request's request_id.
// It is log itself when log already does.
func WithRequestIDs(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(requestIDHandler); ok {
		return log
	}
	return slog.New(requestIDHandler{log.Handler()})
}

// requestIDHandler adds request_id from the context to each record.
type requestIDHandler struct{ next slog.Handler }

func (h requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.next.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.next.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.next.WithGroup(name)}
}
