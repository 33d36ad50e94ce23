package portal

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"sync"
	"time"
)

// codeLife is how long a proof code can be checked.
const codeLife = 10 * time.Minute

// proof is what a citizen created to prove a status.
type proof struct {
	Code      string // shown once to the citizen, kept only in their session
	Person    string
	Name      string
	Status    string // status id
	Label     string // English name, for the audit record
	Created   time.Time
	Expires   time.Time
	JWT       string
	JTI       string
	CredUntil time.Time
}

// proofs holds the live codes by hash and which person each credential id is about
// (so an online check of a credential is recorded under its person). Memory only: a
// restart ends the codes, and a credential checked online after it is recorded
// without its person.
type proofs struct {
	mu    sync.Mutex
	codes map[[32]byte]*proof
	creds map[string]credRef // by jti
	now   func() time.Time
	swept time.Time
}

type credRef struct {
	person, label string
	until         time.Time
}

func newProofs(now func() time.Time) *proofs {
	return &proofs{codes: map[[32]byte]*proof{}, creds: map[string]credRef{}, now: now}
}

// codeAlphabet is Crockford's base32: no I, L, O, U, so a code read aloud is not misread.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeLen is the length of a code: 10 × 5 = 50 bits.
const codeLen = 10

// newCode returns a random code, shown as XXXXX-XXXXX.
func newCode() string {
	var b [codeLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("portal: no randomness: " + err.Error())
	}
	var sb strings.Builder
	for i, c := range b {
		if i == codeLen/2 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[c&31])
	}
	return sb.String()
}

// NormalizeCode reads a code as a person typed it: case, spaces and dashes ignored, O
// read as 0, I and L as 1. It returns "" for anything that cannot be a code.
func NormalizeCode(s string) string {
	if len(s) > 40 {
		return ""
	}
	var sb strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if !strings.ContainsRune(codeAlphabet, r) {
			return ""
		}
		sb.WriteRune(r)
	}
	if sb.Len() != codeLen {
		return ""
	}
	c := sb.String()
	return c[:codeLen/2] + "-" + c[codeLen/2:]
}

func codeKey(code string) [32]byte { return sha256.Sum256([]byte(code)) }

func (ps *proofs) add(pr *proof) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	now := ps.now()
	if now.Sub(ps.swept) > time.Minute {
		ps.swept = now
		for k, v := range ps.codes {
			if now.After(v.Expires) {
				delete(ps.codes, k)
			}
		}
		for k, v := range ps.creds {
			if now.After(v.until) {
				delete(ps.creds, k)
			}
		}
	}
	ps.codes[codeKey(pr.Code)] = pr
	ps.creds[pr.JTI] = credRef{person: pr.Person, label: pr.Label, until: pr.CredUntil}
}

// byCode returns the proof of a normalized code; expired says it existed but is over.
func (ps *proofs) byCode(code string) (pr *proof, expired bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	pr = ps.codes[codeKey(code)]
	if pr == nil {
		return nil, false
	}
	if !ps.now().Before(pr.Expires) {
		return pr, true
	}
	return pr, false
}

func (ps *proofs) person(jti string) (credRef, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	r, ok := ps.creds[jti]
	return r, ok
}
