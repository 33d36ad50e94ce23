package outbound

import (
	"encoding/json"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// SignatureLifetime is how long the signature of a message the hub sends is valid.
const SignatureLifetime = time.Hour

// Envelope writes a DCI message from the hub: header and message (nil: left out) as
// JSON, signed with the hub's current key (an Ed25519 signature string, dci.SignEd25519,
// created now, valid for SignatureLifetime) that a partner checks with the key of the
// hub's JWKS.
func Envelope(keys *oauth.KeySet, header, message any, now time.Time) ([]byte, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return nil, fault.Wrap(err, "encode a DCI message")
	}
	var m []byte
	if message != nil {
		if m, err = json.Marshal(message); err != nil {
			return nil, fault.Wrap(err, "encode a DCI message")
		}
	}
	signer, err := keys.Current()
	if err != nil {
		return nil, err
	}
	return Seal(h, m, SenderID, signer.KeyID, signer.Sign, now, now.Add(SignatureLifetime))
}

// Seal writes the envelope of a DCI message, header and message (nil: left out) as
// they are, with the signature of sender's key keyID (sign returns the Ed25519
// signature of its input), valid from created to expires.
func Seal(header, message json.RawMessage, sender, keyID string, sign func([]byte) []byte, created, expires time.Time) ([]byte, error) {
	sig, err := dci.SignEd25519With(header, message, sender, keyID, sign, created, expires)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Signature string          `json:"signature"`
		Header    json.RawMessage `json:"header"`
		Message   json.RawMessage `json:"message,omitempty"`
	}{sig, header, message})
}
