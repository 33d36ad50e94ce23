package g2p

import (
	"context"

	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"io"
	"math/big"
	"sync"
	"time"
)

// Message is a text message to a mobile number.
type Message struct {
	To   string    `json:"to"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Sender sends text messages: an SMS gateway in production; in the demo, Outbox.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Outbox is the demo's Sender: it keeps the last messages where the demo's page (and
// a test) reads them, codes included. Never a production sender.
type Outbox struct {
	mu   sync.Mutex
	msgs []Message
	Max  int // messages kept (default 1000)
}

// Send keeps m.
func (o *Outbox) Send(_ context.Context, m Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	max := o.Max
	if max <= 0 {
		max = 1000
	}
	if len(o.msgs) >= max {
		o.msgs = append(o.msgs[:0], o.msgs[len(o.msgs)-max+1:]...)
	}
	o.msgs = append(o.msgs, m)
	return nil
}

// To lists the messages kept for a number, oldest first.
func (o *Outbox) To(number string) []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Message
	for _, m := range o.msgs {
		if m.To == number {
			out = append(out, m)
		}
	}
	return out
}

// All lists the messages kept, oldest first.
func (o *Outbox) All() []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Message(nil), o.msgs...)
}

// Code is a one-time code as the programme keeps it: its hash, never the code.
type Code struct {
	Hash    [32]byte  `json:"-"`
	Expires time.Time `json:"-"`
	Tries   int       `json:"-"` // wrong codes entered
	Until   time.Time `json:"-"` // locked until
}

// Limits of one-time codes.
const (
	CodeDigits   = 6
	CodeLifetime = 10 * time.Minute
	MaxTries     = 5
	LockWait     = 15 * time.Minute
)

// newCode draws a code from rnd (crypto/rand when nil).
func newCode(rnd io.Reader, now time.Time) (string, Code, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	n, err := rand.Int(rnd, big.NewInt(1_000_000))
	if err != nil {
		return "", Code{}, err
	}
	s := fmt.Sprintf("%06d", n.Int64())
	return s, Code{Hash: sha256.Sum256([]byte(s)), Expires: now.Add(CodeLifetime)}, nil
}

// check compares a code entered with c in constant time; it counts a wrong one.
func (c *Code) check(entered string, now time.Time) (ok bool, why, what string) {
	switch {
	case now.Before(c.Until):
		return false, "too many wrong codes", fmt.Sprintf("wait until %s, then ask for a new code", c.Until.UTC().Format(time.RFC3339))
	case c.Expires.IsZero():
		return false, "the code was used or replaced", "ask for a new code"
	case now.After(c.Expires):
		return false, "the code has expired", "ask for a new code"
	}
	h := sha256.Sum256([]byte(entered))
	if subtle.ConstantTimeCompare(h[:], c.Hash[:]) == 1 {
		c.Expires = time.Time{} // used once
		return true, "", ""
	}
	c.Tries++
	if c.Tries >= MaxTries {
		c.Until, c.Tries, c.Expires = now.Add(LockWait), 0, time.Time{}
		return false, "wrong code, and too many tries", fmt.Sprintf("wait %s, then ask for a new code", LockWait)
	}
	return false, "wrong code", fmt.Sprintf("check the SMS and try again (%d tries left)", MaxTries-c.Tries)
}

// Codes sent to one mobile number: at most MaxCodes in CodeWindow, so that nobody can
// flood a number with SMS (or the programme with registrations) by starting again.
const (
	MaxCodes   = 5
	CodeWindow = 15 * time.Minute
)

// codeLimit counts the codes sent to each number in the last CodeWindow (or, through
// takeN, other acts by key: the searches of a social worker).
type codeLimit struct {
	mu   sync.Mutex
	sent map[string][]time.Time
}

func (l *codeLimit) take(number string, now time.Time) error {
	return l.takeN(number, now, MaxCodes, "codes were sent to this number")
}

// takeN counts one act of key, refused when max were counted in the last CodeWindow.
func (l *codeLimit) takeN(number string, now time.Time, max int, what string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sent == nil {
		l.sent = map[string][]time.Time{}
	}
	if len(l.sent) > 100_000 { // forget the oldest window wholesale rather than grow
		for k, ts := range l.sent {
			if now.Sub(ts[len(ts)-1]) > CodeWindow {
				delete(l.sent, k)
			}
		}
	}
	ts := l.sent[number]
	for len(ts) > 0 && now.Sub(ts[0]) > CodeWindow {
		ts = ts[1:]
	}
	if len(ts) >= max {
		return fault.TooManyf(nil, "%d %s in %s: wait until %s", max, what, CodeWindow, ts[0].Add(CodeWindow).UTC().Format("15:04:05 MST"))
	}
	l.sent[number] = append(ts, now)
	return nil
}
