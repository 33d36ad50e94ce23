package directory

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Entity is a directory record type: it knows its kind, key, owner and how to check itself.
type Entity interface {
	Institution | Application | Service | Authorization | Subscription | Secret
}

// entity is the behaviour every Entity has; the generic functions reach it through a pointer.
type entity interface {
	kind() Kind
	key() string
	owner() string // the institution the record belongs to; "" for none
	validate() error
	refs() []ref // other records that must exist
}

type ref struct {
	field string
	kind  Kind
	key   string
}

var (
	codeRE  = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{1,31}$`)
	idRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,98}$`)
	tokenRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	capRE   = regexp.MustCompile(`^[0-9]{3}$`)
	fieldRE = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)
)

func needCode(field, v string) error {
	if !codeRE.MatchString(v) {
		return fault.Invalidf(field, "%q is not a code (2–32 of A–Z, 0–9, '-', '_', starting with a letter or digit)", clip(v))
	}
	return nil
}

func needID(field, v string) error {
	if !idRE.MatchString(v) {
		return fault.Invalidf(field, "%q is not an id (1–99 of letters, digits, '.', '_', ':', '-')", clip(v))
	}
	return nil
}

func needToken(field, v string) error {
	if !tokenRE.MatchString(v) {
		return fault.Invalidf(field, "%q is not a lower-case word (a–z, 0–9, '_')", clip(v))
	}
	return nil
}

func needText(field, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return fault.Invalidf(field, "is required")
	}
	if len(v) > max {
		return fault.Invalidf(field, "is longer than %d characters", max)
	}
	return nil
}

func needOneOf(field, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return fault.Invalidf(field, "%q is not one of %s", clip(v), strings.Join(allowed, ", "))
	}
	return nil
}

// needEach checks every element of a list with check, naming its index, and refuses duplicates.
func needEach(field string, vs []string, check func(string, string) error) error {
	seen := make(map[string]bool, len(vs))
	for i, v := range vs {
		f := field + "[" + itoa(i) + "]"
		if err := check(f, v); err != nil {
			return err
		}
		if seen[v] {
			return fault.Invalidf(f, "%q is listed twice", clip(v))
		}
		seen[v] = true
	}
	return nil
}

func needCapacity(field, v string) error {
	if !capRE.MatchString(v) {
		return fault.Invalidf(field, "%q is not a capacity code (three digits, e.g. 000, 902)", clip(v))
	}
	return nil
}

func needField(field, v string) error {
	if !fieldRE.MatchString(v) {
		return fault.Invalidf(field, "%q is not a field name (lower case, digits, '_', '.')", clip(v))
	}
	return nil
}

// needJWK checks that raw is a public Ed25519 or RSA key with a key id.
func needJWK(field string, raw json.RawMessage) error {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		return fault.Invalidf(field, "is not a JSON Web Key: %v", err)
	}
	if !k.IsPublic() {
		return fault.Invalidf(field, "is a private key; register only the public key")
	}
	if k.KeyID == "" {
		return fault.Invalidf(field+".kid", "is required")
	}
	if !k.Valid() {
		return fault.Invalidf(field, "is not a valid key")
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// identFault turns an identifier error into an Invalid fault on field, keeping only its
// message (the ident error repeats the input, which the caller already knows).
func identFault(field string, err error) error {
	var ie *ident.Error
	if errors.As(err, &ie) {
		return fault.Invalidf(field, "%s", ie.Msg)
	}
	return fault.Invalidf(field, "%v", err)
}
