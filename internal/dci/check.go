package dci

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The registry-specific synchronous calls of IBR (sync/enrolled) and DR (sync/disabled,
// sync/get-disability-details, sync/get-disability-support) ask about one person, named
// in a criteria object whose query maps attribute paths to {"eq": value}:
//
//	{"transaction_id": "t1", "disabled_criteria": {"query_type": "idtype-value",
//	  "query": {"member.member_identifier": {"eq": "85061500118"}}}}
//
// The person is the value of the first attribute whose name ends in "identifier" and
// does not name a programme; a programme (IBR) is the value of an attribute whose name
// holds "programme_identifier". A bare value stands for {"eq": value}.

// CheckRequest is such a call, decoded.
type CheckRequest struct {
	TransactionID string
	// ReferenceID is the request's reference_id, in the message or its criteria (the
	// documents give these calls none, but test tools send one and look for it in the
	// answer's item); "" when it has none: the answer's item then carries TransactionID.
	ReferenceID string
	Person      string // the identifier asked about
	Programme   string // IBR: the programme asked about; "" any
}

// DecodeCheck reads a call whose criteria are under criteria ("disabled_criteria",
// "enrolled_criteria"). Its header's action is search.
func DecodeCheck(body []byte, criteria string) (*Envelope[CheckRequest], error) {
	raw, h, err := decodeEnvelope(body, ActionSearch)
	if err != nil {
		return nil, err
	}
	m := fields(raw.Message)
	var msg CheckRequest
	if msg.TransactionID, err = str(m, "transaction_id"); err != nil || !validID(msg.TransactionID) {
		return nil, bad("message.transaction_id", fmt.Sprintf("is required: 1 to %d characters", MaxID))
	}
	c := fields(m[criteria])
	if c == nil {
		return nil, bad("message."+criteria, "is required and must be an object")
	}
	for _, where := range []map[string]json.RawMessage{m, c} {
		if msg.ReferenceID == "" {
			if msg.ReferenceID, err = str(where, "reference_id"); err != nil || len(msg.ReferenceID) > MaxID {
				return nil, bad("message.reference_id", fmt.Sprintf("must be an id of at most %d characters", MaxID))
			}
		}
	}
	q := fields(c["query"])
	if q == nil {
		return nil, bad("message."+criteria+".query", "is required: an object such as {\"person_identifier\": {\"eq\": \"…\"}}")
	}
	for name, v := range q {
		value, ok := eqValue(v)
		switch {
		case strings.Contains(name, "programme_identifier"):
			if !ok {
				return nil, bad("message."+criteria+".query."+name, "must be {\"eq\": \"…\"}")
			}
			msg.Programme = value
		case strings.HasSuffix(name, "identifier"):
			if !ok || value == "" || len(value) > MaxID {
				return nil, bad("message."+criteria+".query."+name, fmt.Sprintf("must be {\"eq\": id} with an id of 1 to %d characters", MaxID))
			}
			if msg.Person != "" && msg.Person != value {
				return nil, bad("message."+criteria+".query", "names two persons; ask about one")
			}
			msg.Person = value
		}
	}
	if msg.Person == "" {
		return nil, bad("message."+criteria+".query", "names no person: use person_identifier or member.member_identifier")
	}
	return &Envelope[CheckRequest]{Signature: raw.Signature, Header: h, Message: msg, RawHeader: raw.Header, RawMessage: raw.Message}, nil
}

// eqValue reads {"eq": value} or a bare value as a string.
func eqValue(v []byte) (string, bool) {
	if m := fields(v); m != nil {
		if len(m) != 1 {
			return "", false
		}
		v = m["eq"]
	}
	if s, ok := unquote(v); ok {
		return s, true
	}
	s, err := scalar(v, false)
	return s, err == nil
}

// CheckItem answers a yes/no call (disabled_response, enrolled_response).
type CheckItem struct {
	ReferenceID         string `json:"reference_id"`
	Timestamp           string `json:"timestamp"`
	Status              string `json:"status"`
	StatusReasonMessage string `json:"status_reason_message,omitempty"`
	DisabledStatus      string `json:"disabled_status,omitempty"`
	EnrolledStatus      string `json:"enrolled_status,omitempty"`
}

// YesNo is the standard's spelling of a boolean answer.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
