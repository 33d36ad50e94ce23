package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// The demo's receiver stands in for the institutions' servers, so that a new user sees
// changes and answers delivered rather than failing: the nation's push subscriptions point
// at it (receiverPath + "notify/<institution>"), and asynchronous calls may name it as
// their callback. It checks what it receives as a subscriber should — the hub's signature
// of the message, and for a push the hub's bearer token (push+jwt, audience
// subscriber:<institution>) — answers 200 to what verifies and 401 to the rest, logs each
// message and keeps the last ones for GET /demo/receiver.

// receiverPath is where the demo mounts its receiver.
const receiverPath = "/demo/receiver/"

// receiverKeep is how many received messages GET /demo/receiver lists.
const receiverKeep = 50

type receiver struct {
	keys *oauth.KeySet
	log  *slog.Logger
	// programmes take the notify events pushed to a built-in institution (the demo's
	// SP-MIS), by institution code; an error answers 503, and the hub pushes again.
	programmes map[string]func(ctx context.Context, events []json.RawMessage) error

	mu       sync.Mutex
	accepted int
	refused  int
	events   int // notify events among the accepted messages
	last     []received
}

// received is what the receiver says of one message.
type received struct {
	Time      string `json:"time"`
	Path      string `json:"path"`
	Action    string `json:"action,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	Events    int    `json:"events,omitempty"` // a notify's events
	Verified  bool   `json:"verified"`
	Refused   string `json:"refused,omitempty"` // why it was not accepted

	receiverID string            // the institution pushed to
	events     []json.RawMessage // a notify's events
}

func newReceiver(keys *oauth.KeySet, log *slog.Logger) *receiver {
	return &receiver{keys: keys, log: log}
}

// ServeHTTP takes POST <receiverPath>… and answers GET <receiverPath> with what came.
func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && (r.URL.Path == receiverPath || r.URL.Path+"/" == receiverPath) {
		rc.list(w)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST a DCI message here, or GET "+receiverPath, http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	got := received{Time: time.Now().UTC().Format(time.RFC3339Nano), Path: r.URL.Path}
	err = rc.check(r, body, &got)
	got.Verified = err == nil
	status := http.StatusUnauthorized
	if take := rc.programmes[got.receiverID]; err == nil && take != nil && got.Action == dci.ActionNotify {
		if perr := take(r.Context(), got.events); perr != nil {
			err, status = fmt.Errorf("the programme could not take the events: %w", perr), http.StatusServiceUnavailable
		}
	}
	rc.mu.Lock()
	if err != nil {
		rc.refused++
		got.Refused = err.Error()
	} else {
		rc.accepted++
		rc.events += got.Events
	}
	rc.last = append(rc.last, got)
	if len(rc.last) > receiverKeep {
		rc.last = rc.last[len(rc.last)-receiverKeep:]
	}
	rc.mu.Unlock()
	if err != nil {
		rc.log.Warn("demo receiver: message refused", "path", got.Path, "action", got.Action, "err", err)
		http.Error(w, err.Error(), status)
		return
	}
	rc.log.Info("demo receiver: message received and verified", "path", got.Path, "action", got.Action,
		"message_id", got.MessageID, "events", got.Events)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(dci.NewAck(got.MessageID, time.Now()))
}

// check verifies the hub's signature of the message and, for a notify, its bearer token.
func (rc *receiver) check(r *http.Request, body []byte, got *received) error {
	var env struct {
		Signature string          `json:"signature"`
		Header    json.RawMessage `json:"header"`
		Message   json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("not a DCI message: %w", err)
	}
	var h struct {
		Action     string `json:"action"`
		MessageID  string `json:"message_id"`
		ReceiverID string `json:"receiver_id"`
	}
	_ = json.Unmarshal(env.Header, &h)
	got.Action, got.MessageID, got.receiverID = h.Action, h.MessageID, h.ReceiverID
	sig, err := dci.ParseSignature(env.Signature)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	pub, ok := rc.keys.PublicKey(sig.KeyID)
	if !ok {
		return fmt.Errorf("signature: key %q is not one of the hub's", sig.KeyID)
	}
	if err := dci.VerifyEd25519(sig, env.Header, env.Message, pub, time.Now()); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	if h.Action != dci.ActionNotify {
		return nil
	}
	if err := rc.checkToken(r, h.ReceiverID); err != nil {
		return err
	}
	var m struct {
		Events []json.RawMessage `json:"notify_event"`
	}
	_ = json.Unmarshal(env.Message, &m)
	got.Events, got.events = len(m.Events), m.Events
	return nil
}

// checkToken verifies a push's bearer token: the hub's, for this institution, in force.
func (rc *receiver) checkToken(r *http.Request, institution string) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return errors.New("bearer token: missing")
	}
	payload, h, err := rc.keys.VerifyJWS(tok)
	if err != nil {
		return fmt.Errorf("bearer token: %w", err)
	}
	var c oauth.HubClaims
	if err := json.Unmarshal(payload, &c); err != nil || h.Type != oauth.PushTokenType {
		return errors.New("bearer token: not a push token")
	}
	if c.Audience != "subscriber:"+institution || time.Now().Unix() > c.Expires {
		return fmt.Errorf("bearer token: for %s, until %d; not for subscriber:%s now", c.Audience, c.Expires, institution)
	}
	return nil
}

func (rc *receiver) list(w http.ResponseWriter) {
	rc.mu.Lock()
	out := struct {
		Accepted int        `json:"accepted"`
		Refused  int        `json:"refused"`
		Events   int        `json:"events"`
		Last     []received `json:"last"`
	}{rc.accepted, rc.refused, rc.events, append([]received{}, rc.last...)}
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

// pointAtReceiver makes the push subscriptions that have no server of their own — the
// synthetic nation's, at synth.NowhereEndpoint, or the receiver of an earlier start at
// another address — push to this start's receiver at base (…/demo/receiver/). A
// subscription an administrator pointed elsewhere is left alone.
func pointAtReceiver(ctx context.Context, d *directory.Directory, base string) (int, error) {
	subs, err := all[directory.Subscription](ctx, d)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range subs {
		if s.Mode != directory.ModePush || !s.Active() || !ownedByDemo(s.Endpoint) {
			continue
		}
		to := base + "notify/" + s.Institution
		if s.Endpoint == to {
			continue
		}
		s.Endpoint = to
		if _, _, err := directory.Put(ctx, d, "demo", s, directory.AnyVersion); err != nil {
			return n, fmt.Errorf("point subscription %s at the demo's receiver: %w", s.ID, err)
		}
		n++
	}
	return n, nil
}

// ownedByDemo reports whether endpoint is the synthetic nation's placeholder or a demo
// receiver on the loopback interface.
func ownedByDemo(endpoint string) bool {
	if strings.HasPrefix(endpoint, synth.NowhereEndpoint) {
		return true
	}
	rest, ok := strings.CutPrefix(endpoint, "http://127.0.0.1:")
	if !ok {
		return false
	}
	_, path, ok := strings.Cut(rest, "/")
	return ok && strings.HasPrefix("/"+path, receiverPath+"notify/")
}
