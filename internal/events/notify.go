package events

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/outbound"
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

// notifyMessage is a batch as one DCI notify signed by the hub, and its id.
func (p *Pipeline) notifyMessage(batch []queued, now time.Time) (body []byte, id string, err error) {
	ts := dci.Timestamp(now)
	id = batchID(batch)
	header := dci.CallbackHeader{Version: dci.Version, MessageID: id, MessageTS: ts, Action: dci.ActionNotify,
		Status: dci.StatusSuccess, TotalCount: dci.Count(len(batch)), CompletedCount: dci.Count(len(batch)), SenderID: outbound.SenderID,
		ReceiverID: batch[0].d.Institution}
	events := make([]notifyEvent, len(batch))
	for i, q := range batch {
		reg := dci.RegistryOf(cmp.Or(q.d.Registry, "civil"))
		regType, recordType := reg.Type, cmp.Or(q.d.RecordType, reg.RecordType) // a remote source's own label is kept
		events[i] = notifyEvent{ReferenceID: q.d.Key, Timestamp: ts, Locale: "eng", Data: notifyData{Version: dci.Version,
			RegType: regType, RegEventType: cmp.Or(q.d.WireType, q.d.Type), EventType: q.d.Type, RegRecordType: recordType,
			RegRecords: []json.RawMessage{q.d.Record}}}
	}
	body, err = outbound.Envelope(p.keys, header, struct {
		TransactionID string        `json:"transaction_id"`
		NotifyEvent   []notifyEvent `json:"notify_event"`
	}{id, events}, now)
	if err != nil {
		return nil, "", err
	}
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
	token, err := p.tokens.Get(ctx, "subscriber:"+batch[0].d.Institution)
	if err != nil {
		return err
	}
	resp, err := outbound.Post(ctx, p.client, outbound.Request{URL: to.String(), Body: body, Token: token,
		Header: map[string]string{"Idempotency-Key": id}, Timeout: deliverTimeout})
	if err != nil {
		return err
	}
	if !resp.OK() {
		return fmt.Errorf("the subscriber answered %d", resp.Status)
	}
	return nil
}
