package cluster

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadRenewsItsToken: a load that runs longer than its token lasts gets a new one
// (the cluster demo's clients were refused 401 after 5 minutes).
func TestLoadRenewsItsToken(t *testing.T) {
	var current atomic.Value
	current.Store("first")
	var refused atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+current.Load().(string) {
			refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Audit-Records", "1")
		w.Write([]byte(`{"person":"P1"}`))
	}))
	defer srv.Close()
	renewals := 0
	l := &Load{URL: srv.URL, Token: "first", Person: "P1", Clients: 2, RenewEvery: 100 * time.Millisecond,
		Renew: func(context.Context) (string, error) {
			renewals++
			current.Store("renewed") // the first token expires as the new one is handed out
			return "renewed", nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	l.Run(ctx)
	ok, failed := l.Counts()
	if renewals == 0 || ok == 0 {
		t.Fatalf("%d renewals, %d answered; want the token renewed and requests answered", renewals, ok)
	}
	// Only the requests in flight while the token changed may have been refused.
	if failed > 2*l.Clients {
		t.Errorf("%d requests refused (%d 401s); want at most the %d in flight at the renewal", failed, refused.Load(), 2*l.Clients)
	}
}
