package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// Decisions.
const (
	Permit = "permit"
	Deny   = "deny"
)

// Record is one exchange as the log keeps it. Its JSON encoding (this struct, in this
// field order) is the canonical form that is stored and hashed into the tree; changing
// the struct changes the bytes of new records only, old ones keep verifying as stored.
type Record struct {
	Seq           int64     `json:"seq"` // assigned by the log: 1, 2, 3, … without gaps
	Time          time.Time `json:"time"`
	Client        string    `json:"client"`
	MessageID     string    `json:"message_id,omitempty"` // the sender's header.message_id, if any
	Institution   string    `json:"institution"`
	Service       string    `json:"service"`
	Purpose       string    `json:"purpose"`
	Persons       []string  `json:"persons"` // the persons concerned, indexed for ByPerson
	Fields        []string  `json:"fields"`
	Decision      string    `json:"decision"` // Permit or Deny
	Reasons       []string  `json:"reasons"`
	Authorization string    `json:"authorization"`
	Outcome       string    `json:"outcome"` // "answered", "refused", "source_error", …
	Status        int       `json:"status"`
	LatencyMicros int64     `json:"latency_us"`
	RequestHash   string    `json:"request_hash"`  // hex SHA-256 of the request bytes
	ResponseHash  string    `json:"response_hash"` // hex SHA-256 of the response bytes; with Lines, the lines' Merkle root
	// Lines is the number of answer lines of a batch chunk: the response is that many
	// lines, and ResponseHash is the Merkle root of their leaves (LineHash), so that one
	// line can be proved without the others (ProveLine, VerifyLine). 0: one response.
	Lines   int    `json:"lines,omitempty"`
	Binding string `json:"binding"` // hex BindingHash; Append fills it in
}

// BindingHash binds a response to its request: SHA-256(request hash || response hash).
func BindingHash(reqHash, respHash [32]byte) [32]byte {
	var b [64]byte
	copy(b[:32], reqHash[:])
	copy(b[32:], respHash[:])
	return sha256.Sum256(b[:])
}

// HashHex returns the hex SHA-256 of payload, the form of RequestHash and ResponseHash.
func HashHex(payload []byte) string {
	h := sha256.Sum256(payload)
	return hex.EncodeToString(h[:])
}

// prepare checks r as a caller gave it, stamps it with now when it has no time, and
// fills in the binding. A record that fails here is refused before it can spoil a batch.
func prepare(r Record, now func() time.Time) (Record, error) {
	req, err := parseHash("request_hash", r.RequestHash)
	if err != nil {
		return Record{}, err
	}
	resp, err := parseHash("response_hash", r.ResponseHash)
	if err != nil {
		return Record{}, err
	}
	b := BindingHash(req, resp)
	binding := hex.EncodeToString(b[:])
	switch {
	case r.Decision != Permit && r.Decision != Deny:
		return Record{}, fault.Invalidf("decision", "must be %q or %q, not %q", Permit, Deny, r.Decision)
	case r.Outcome == "":
		return Record{}, fault.Invalidf("outcome", "is required")
	case r.Lines < 0:
		return Record{}, fault.Invalidf("lines", "must not be negative")
	case r.Binding != "" && r.Binding != binding:
		return Record{}, fault.Invalidf("binding", "is not the binding of the request and response hashes")
	}
	for _, p := range r.Persons {
		if p == "" {
			return Record{}, fault.Invalidf("persons", "must not hold an empty person")
		}
	}
	if r.Time.IsZero() {
		r.Time = now()
	}
	// Keep the time within what encoding/json can write, and in one zone, so that the
	// encoding never fails and never depends on the caller's location.
	r.Time = r.Time.UTC().Round(0)
	if y := r.Time.Year(); y < 1 || y > 9999 {
		return Record{}, fault.Invalidf("time", "year %d is out of range", y)
	}
	r.Seq, r.Binding = 0, binding
	r.RequestHash, r.ResponseHash = hex.EncodeToString(req[:]), hex.EncodeToString(resp[:])
	return r, nil
}

func parseHash(field, s string) ([32]byte, error) {
	var h [32]byte
	if len(s) != 64 {
		return h, fault.Invalidf(field, "must be 64 hex digits (a SHA-256)")
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fault.Invalidf(field, "must be 64 hex digits (a SHA-256)")
	}
	return h, nil
}

// seqless is how the encoding of a record with Seq 0 begins: Seq is the first field.
const seqlessPrefix = `{"seq":0`

// encodeSeqless returns the canonical bytes of r with Seq 0. Callers encode in their own
// goroutines; the writer only splices the seq in (withSeq), which keeps JSON encoding
// off the single writer.
func encodeSeqless(r *Record) ([]byte, error) {
	r.Seq = 0
	return appendRecord(make([]byte, 0, encodedSize(r)), r), nil
}

// encodedSize is a little more than the bytes r takes encoded without escapes: the
// member names and punctuation (about 300 bytes), the numbers, and the text.
func encodedSize(r *Record) int {
	n := 400 + len(r.Client) + len(r.MessageID) + len(r.Institution) + len(r.Service) + len(r.Purpose) +
		len(r.Decision) + len(r.Authorization) + len(r.Outcome) + len(r.RequestHash) + len(r.ResponseHash) + len(r.Binding)
	for _, list := range [][]string{r.Persons, r.Fields, r.Reasons} {
		for _, s := range list {
			n += len(s) + 3
		}
	}
	return n
}

// withSeq returns the canonical bytes of the record encoded as seqless with seq set:
// the same bytes as json.Marshal of the record with that seq.
func withSeq(seqless []byte, seq int64) []byte {
	tail := seqless[len(seqlessPrefix):]
	b := make([]byte, 0, len(seqless)+20)
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	return append(b, tail...)
}

// decode parses stored bytes.
// messageOf reads the time, client and message id of a stored record, and nothing
// else of it.
func messageOf(b []byte) (t time.Time, client, messageID string, err error) {
	var tv []byte
	var haveClient, bad bool
	valid := rawjson.EachMember(b, func(name string, v []byte) bool {
		ok := true
		switch name {
		case "time":
			tv = v
		case "client":
			client, ok = rawjson.Unquote(v)
			haveClient = true
		case "message_id":
			messageID, ok = rawjson.Unquote(v)
		}
		bad = !ok
		return ok
	})
	switch {
	case bad || !valid:
		return time.Time{}, "", "", errors.New("not a record")
	case tv == nil || !haveClient:
		return time.Time{}, "", "", errors.New("a record without its time or client")
	}
	s, ok := rawjson.Unquote(tv)
	if !ok {
		return time.Time{}, "", "", errors.New("a record whose time is not a string")
	}
	if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
		return time.Time{}, "", "", errors.New("a record whose time is not RFC 3339")
	}
	return t, client, messageID, nil
}

func decode(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, err
	}
	return r, nil
}
