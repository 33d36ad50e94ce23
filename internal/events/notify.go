package events

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// deliverTimeout bounds one push, from the request to the end of the answer.
const deliverTimeout = 10 * time.Second

// batchID names a batch of several copies: a hash of their keys, the same each time the
// same batch is sent.
func batchID(batch []queued) string {
	if len(batch) == 1 {
		return batch[0].d.Key
	}
	h := sha256.New()
	for _, q := range batch {
		h.Write([]byte(q.d.Key))
		h.Write([]byte{0})
	}
	return "crossroads-batch-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// notifyEvent is one copy in a notify message.
type notifyEvent struct {
	ReferenceID string     `json:"reference_id"`
	Timestamp   string     `json:"timestamp"`
	Locale      string     `json:"locale"`
	Data        notifyData `json:"data"`
}

type notifyData struct {
	Version       string            `json:"version"`
	RegType       string            `json:"reg_type"`
	RegEventType  string            `json:"reg_event_type"`
	EventType     string            `json:"event_type"` // the hub's own type (birth, death, employment_start, …), whatever reg_event_type the registry's document imposes
	RegRecordType string            `json:"reg_record_type"`
	RegRecords    []json.RawMessage `json:"reg_records"`
}

// PushTokenType is the JWS type of the bearer tokens the hub presents to subscribers.
// A token's audience is "subscriber:<institution>"; it is signed with a key of the hub's
// JWKS (/.well-known/jwks.json) and expires after 5 minutes.
const PushTokenType = "push+jwt"

// PushClaims are the claims of a push token.
type PushClaims struct {
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
	Expires  int64  `json:"exp"`
}

// pushTokens are the bearer tokens for pushes, by institution.
type pushTokens struct {
	mu     sync.Mutex
	tokens map[string]pushToken
}

type pushToken struct {
	token   string
	expires time.Time
}

// get returns the bearer token for pushes to institution, signed anew when the cached
// one has less than a minute left.
func (t *pushTokens) get(keys *oauth.KeySet, institution string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.tokens[institution]; ok && time.Until(c.expires) > time.Minute {
		return c.token, nil
	}
	exp := time.Now().Add(5 * time.Minute)
	b, _ := json.Marshal(PushClaims{Issuer: "crossroads", Audience: "subscriber:" + institution, Expires: exp.Unix()})
	tok, err := keys.SignJWS(PushTokenType, b)
	if err != nil {
		return "", err
	}
	if t.tokens == nil {
		t.tokens = map[string]pushToken{}
	}
	t.tokens[institution] = pushToken{tok, exp}
	return tok, nil
}

// notifyMessage is a batch as one DCI notify signed by the hub, and its id.
func (p *Pipeline) notifyMessage(batch []queued, now time.Time) (body []byte, id string, err error) {
	ts := dci.Timestamp(now)
	id = batchID(batch)
	header := dci.CallbackHeader{Version: dci.Version, MessageID: id, MessageTS: ts, Action: dci.ActionNotify,
		Status: dci.StatusSuccess, TotalCount: dci.Count(len(batch)), CompletedCount: dci.Count(len(batch)), SenderID: "crossroads",
		ReceiverID: batch[0].d.Institution}
	events := make([]notifyEvent, len(batch))
	for i, q := range batch {
		reg := dci.RegistryOf(cmp.Or(q.d.Registry, "civil"))
		regType, recordType := reg.Type, cmp.Or(q.d.RecordType, reg.RecordType) // a remote source's own label is kept
		events[i] = notifyEvent{ReferenceID: q.d.Key, Timestamp: ts, Locale: "eng", Data: notifyData{Version: dci.Version,
			RegType: regType, RegEventType: cmp.Or(q.d.WireType, q.d.Type), EventType: q.d.Type, RegRecordType: recordType,
			RegRecords: []json.RawMessage{q.d.Record}}}
	}
	h, _ := json.Marshal(header)
	m, err := json.Marshal(struct {
		TransactionID string        `json:"transaction_id"`
		NotifyEvent   []notifyEvent `json:"notify_event"`
	}{id, events})
	if err != nil {
		return nil, "", err
	}
	signer, err := p.keys.Current()
	if err != nil {
		return nil, "", err
	}
	sig, err := dci.SignEd25519With(h, m, "crossroads", signer.KeyID, signer.Sign, now, now.Add(time.Hour))
	if err != nil {
		return nil, "", err
	}
	body, _ = json.Marshal(struct {
		Signature string          `json:"signature"`
		Header    json.RawMessage `json:"header"`
		Message   json.RawMessage `json:"message"`
	}{sig, h, m})
	return body, id, nil
}

// push posts a batch as one DCI notify, one event per copy in the batch's order. The
// message id, and the Idempotency-Key header, is the copy's key for a lone copy, else a
// hash of the keys; subscribers deduplicate by each event's reference_id.
func (p *Pipeline) push(ctx context.Context, endpoint string, batch []queued) error {
	// Checked at each push, and the normal form posted: the record may predate the rules.
	to, err := directory.ParseEndpoint("endpoint", endpoint)
	if err != nil {
		return err
	}
	body, id, err := p.notifyMessage(batch, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", id)
	token, err := p.tokens.get(p.keys, batch[0].d.Institution)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the subscriber answered %d", resp.StatusCode)
	}
	return nil
}
