package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEventsTailEnds: the tail exits without error when the hub ends the stream (a hub
// shutting down), and with one when the stream breaks off.
func TestEventsTailEnds(t *testing.T) {
	tests := []struct {
		name    string
		serve   http.HandlerFunc
		wantErr bool
	}{
		{"the hub ends it", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("{\"state\":\"routed\"}\n{\"state\":\"delivered\"}\n"))
		}, false},
		{"it breaks off", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000") // promised, not sent
			w.Write([]byte("{\"state\":\"routed\"}\n"))
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.serve)
			defer srv.Close()
			out, errOut, err := cli(t, "", "events", "tail", "--url", srv.URL, "--token", "t")
			if (err != nil) != tt.wantErr || !strings.Contains(out, `{"state":"routed"}`) {
				t.Errorf("events tail: %v, printed %q (stderr %q); want an error: %v", err, out, errOut, tt.wantErr)
			}
			if !tt.wantErr && !strings.Contains(errOut, "shutting down") {
				t.Errorf("stderr %q; want a word that the hub ended the tail", errOut)
			}
		})
	}
}
