package oidcconnector

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestIdPClientKeepsConnections: when 16 people's code exchanges reach one
// IdP host at once, the next 16 reuse the connections the first opened
// instead of opening (and, for TLS, handshaking) new ones.
func TestIdPClientKeepsConnections(t *testing.T) {
	var opened atomic.Int64
	release := make(chan struct{})
	var arrived sync.WaitGroup
	idp := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-release
		io.WriteString(w, `{"access_token":"x"}`)
	}))
	idp.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	idp.Start()
	defer idp.Close()
	client := IdPClient()
	burst := func() {
		arrived.Add(16)
		var done sync.WaitGroup
		for range 16 {
			done.Add(1)
			go func() {
				defer done.Done()
				resp, err := client.Post(idp.URL+"/token", "application/x-www-form-urlencoded", nil)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
		arrived.Wait() // all 16 at the IdP at once
		release <- struct{}{}
		for range 15 {
			release <- struct{}{}
		}
		done.Wait()
	}
	burst()
	first := opened.Load()
	burst()
	if again := opened.Load() - first; first != 16 || again != 0 {
		t.Fatalf("the first burst opened %d connections and the second %d more; want 16, then none", first, again)
	}
}
