package directory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Tokens are "<prefix>.<name>.<43 random base64url characters>": the name says whose
// secret record to check, the random part carries 256 bits. Only SHA-256 hashes are
// stored; a slow hash adds nothing for tokens this long.
const (
	adminPrefix  = "cra"
	clientPrefix = "crc"
	// BootstrapAdmin is the name of the administrator created at first start.
	BootstrapAdmin = "bootstrap"
)

// HashToken returns the stored form of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func newToken(prefix, name string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + "." + name + "." + base64.RawURLEncoding.EncodeToString(b[:])
}

// EnsureAdmin creates the bootstrap administrator's token if none exists yet. It returns
// the token only when it created it: the token is shown once and never stored in clear.
func (d *Directory) EnsureAdmin(ctx context.Context) (token string, created bool, err error) {
	id := "admin:" + BootstrapAdmin
	if _, err := d.store.GetRecord(ctx, KindSecret, id); err == nil {
		return "", false, nil
	} else if fault.KindOf(err) != fault.NotFound {
		return "", false, err
	}
	token = newToken(adminPrefix, BootstrapAdmin)
	_, _, err = Put(ctx, d, "system", Secret{ID: id, Hash: HashToken(token)}, MustCreate)
	if err != nil {
		return "", false, err
	}
	return token, true, nil
}

// Admin checks an administrator token and returns the actor name for the history.
func (d *Directory) Admin(ctx context.Context, token string) (string, error) {
	name, err := d.checkToken(ctx, adminPrefix, "admin:", token)
	if err != nil {
		return "", err
	}
	return "admin:" + name, nil
}

// IssueClientSecret gives an application a new client secret, replacing the old one.
// The secret is returned once; only its hash is kept.
func (d *Directory) IssueClientSecret(ctx context.Context, actor, appID string) (string, error) {
	if _, _, err := Get[Application](ctx, d, appID); err != nil {
		return "", err
	}
	secret := newToken(clientPrefix, appID)
	if _, _, err := Put(ctx, d, actor, Secret{ID: "client:" + appID, Hash: HashToken(secret)}, AnyVersion); err != nil {
		return "", err
	}
	return secret, nil
}

// CheckClientSecret reports whether secret is the current secret of application appID.
func (d *Directory) CheckClientSecret(ctx context.Context, appID, secret string) error {
	name, err := d.checkToken(ctx, clientPrefix, "client:", secret)
	if err != nil {
		return err
	}
	if name != appID {
		return fault.Unauthorizedf("the secret does not belong to this client")
	}
	return nil
}

func (d *Directory) checkToken(ctx context.Context, prefix, idPrefix, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != prefix || parts[1] == "" {
		return "", fault.Unauthorizedf("the credential is malformed")
	}
	sec, _, err := Get[Secret](ctx, d, idPrefix+parts[1])
	if fault.KindOf(err) == fault.NotFound {
		return "", fault.Unauthorizedf("the credential is not valid")
	}
	if err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare([]byte(sec.Hash), []byte(HashToken(token))) != 1 {
		return "", fault.Unauthorizedf("the credential is not valid")
	}
	return parts[1], nil
}
