package main

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/outbound"
)

// SignCmd signs a DCI message with an application's Ed25519 key, as the hub checks it:
// a signature string (kidId "{sender_id}|{kid}|ed25519") over the canonical JSON of
// {header, message}. The key comes from the demo's client file or from a JWK file.
type SignCmd struct {
	Message string        `arg:"" optional:"" default:"-" help:"The DCI message ({header, message}) to sign; - for standard input."`
	Client  string        `help:"The client_id whose signing_key (in --clients) signs."`
	Clients string        `help:"The demo's client file." default:"./crossroads-data/demo-clients.json"`
	Key     string        `help:"A file holding the private key as a JWK (Ed25519, with its kid), instead of --client."`
	Expires time.Duration `help:"How long the signature is valid." default:"5m"`
}

func (c *SignCmd) Run(e *env) error {
	key, err := c.signingKey()
	if err != nil {
		return err
	}
	var in []byte
	if c.Message == "-" {
		in, err = io.ReadAll(e.stdin)
	} else {
		in, err = os.ReadFile(c.Message)
	}
	if err != nil {
		return err
	}
	out, err := signMessage(in, key, time.Now(), c.Expires)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", out)
	return err
}

// signingKey reads the private key named by --key or --client.
func (c *SignCmd) signingKey() (jose.JSONWebKey, error) {
	var key jose.JSONWebKey
	var raw []byte
	switch {
	case c.Key != "":
		b, err := os.ReadFile(c.Key)
		if err != nil {
			return key, err
		}
		raw = b
	case c.Client != "":
		b, err := os.ReadFile(c.Clients)
		if err != nil {
			return key, err
		}
		var file struct {
			Clients []struct {
				ClientID   string          `json:"client_id"`
				SigningKey json.RawMessage `json:"signing_key"`
			} `json:"clients"`
		}
		if err := json.Unmarshal(b, &file); err != nil {
			return key, fmt.Errorf("%s: %w", c.Clients, err)
		}
		for _, cl := range file.Clients {
			if cl.ClientID == c.Client {
				raw = cl.SigningKey
			}
		}
		if raw == nil {
			return key, fmt.Errorf("%s holds no signing_key of client %q", c.Clients, c.Client)
		}
	default:
		return key, fmt.Errorf("name the key: --client (from --clients) or --key")
	}
	if err := key.UnmarshalJSON(raw); err != nil {
		return key, fmt.Errorf("the signing key is not a JWK: %w", err)
	}
	if _, ok := key.Key.(ed25519.PrivateKey); !ok || key.KeyID == "" {
		return key, fmt.Errorf("the signing key must be a private Ed25519 JWK with a kid")
	}
	return key, nil
}

// signMessage returns msg ({header, message}, any signature replaced) signed with key,
// valid from now for d. The sender in kidId is the header's sender_id.
func signMessage(msg []byte, key jose.JSONWebKey, now time.Time, d time.Duration) ([]byte, error) {
	var env struct {
		Header  json.RawMessage `json:"header"`
		Message json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(msg, &env); err != nil || env.Header == nil {
		return nil, fmt.Errorf("not a DCI message with a header: %v", err)
	}
	var h struct {
		SenderID string `json:"sender_id"`
	}
	if err := json.Unmarshal(env.Header, &h); err != nil || h.SenderID == "" {
		return nil, fmt.Errorf("header.sender_id is required: the signature names the sender")
	}
	priv := key.Key.(ed25519.PrivateKey)
	return outbound.Seal(env.Header, env.Message, h.SenderID, key.KeyID, func(b []byte) []byte { return ed25519.Sign(priv, b) }, now, now.Add(d))
}
