package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"time"

	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Sender delivers a one-time login code to the person (by SMS, e-mail, a letter box of
// the state): pluggable, so that a deployment brings its own.
type Sender interface {
	Send(ctx context.Context, person, name, code string) error
}

// Names finds a person's name, and whether the person is known, for the code login.
type Names func(ctx context.Context, person string) (name string, ok bool, err error)

// LogSender is the demo's Sender: it writes the code to the log, marked as development.
// Never use it in production: whoever reads the log can log in.
type LogSender struct {
	Log   *slog.Logger
	Names Names
}

// Send logs the code with the last four digits of the person number.
func (s LogSender) Send(ctx context.Context, person, name, code string) error {
	s.Log.Warn("DEVELOPMENT one-time login code (the demo's sender writes it to the log instead of sending it)",
		"person_ending", person[len(person)-4:], "code", code)
	return nil
}

// otpPending is a code sent, waiting to be typed.
type otpPending struct {
	Person  string
	Name    string
	Hash    [32]byte
	Expires time.Time
}

const otpLife = 5 * time.Minute

// codeSend sends a one-time code to the person typed, if known. The answer is the same
// whether the person is known or not (nothing to learn by trying numbers); sending is
// rate-limited by person and by address.
func (p *Portal) codeSend(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	if p.cfg.OTP == nil || p.cfg.Names == nil {
		return pageErr(http.StatusNotFound, "error.notfound", nil)
	}
	pn, err := ident.ParsePerson(r.PostForm.Get("person"))
	if err != nil {
		ss.OTP = &otpPending{Expires: p.now().Add(otpLife)} // the same answer as for an unknown person
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return nil
	}
	person := pn.String()
	if !p.limits.charge("send:"+person, budgetSend) || !p.limits.charge("send-addr:"+clientAddr(r), budgetSendAddr) {
		return pageErr(http.StatusTooManyRequests, "error.limit", nil)
	}
	code := digits(6)
	pend := &otpPending{Person: person, Hash: sha256.Sum256([]byte(person + "\x00" + code)), Expires: p.now().Add(otpLife)}
	name, ok, err := p.cfg.Names(r.Context(), person)
	if err != nil {
		return err
	}
	if ok {
		pend.Name = name
		if err := p.cfg.OTP.Send(r.Context(), person, name, code); err != nil {
			return err
		}
	} else {
		pend.Person = "" // nothing sent; any code typed is wrong
	}
	ss.OTP = pend
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
	return nil
}

// codeCheck logs in with the code: five wrong codes end the login.
func (p *Portal) codeCheck(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	pend := ss.OTP
	if pend == nil || !p.now().Before(pend.Expires) {
		ss.OTP = nil
		return pageErr(http.StatusBadRequest, "error.badcode", errors.New("no code pending"))
	}
	key := "guess:" + pend.Person
	if pend.Person == "" {
		key = "guess-addr:" + clientAddr(r)
	}
	if !p.limits.charge(key, budgetGuess) {
		ss.OTP = nil
		return pageErr(http.StatusTooManyRequests, "error.limit", nil)
	}
	h := sha256.Sum256([]byte(pend.Person + "\x00" + r.PostForm.Get("code")))
	if pend.Person == "" || !sameToken(string(h[:]), string(pend.Hash[:])) {
		return pageErr(http.StatusUnauthorized, "error.badcode", nil)
	}
	p.loggedIn(w, r, ss, pend.Person, pend.Name, "code")
	return nil
}

// digits returns n random decimal digits.
func digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic("portal: no randomness: " + err.Error())
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}
