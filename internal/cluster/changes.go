package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// Inbox is a subscriber's endpoint: it takes the hub's notify messages and remembers
// each copy of a change (its key, the person) in order of arrival.
type Inbox struct {
	mu     sync.Mutex
	copies []Copy
}

// Copy is one event of a notify message.
type Copy struct {
	Key    string // its reference_id: "civil:<seq>/<subscription>"
	Person string
}

func (b *Inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	var env struct {
		Message struct {
			NotifyEvent []struct {
				ReferenceID string `json:"reference_id"`
				Data        struct {
					RegRecords []struct {
						Person string `json:"person"`
					} `json:"reg_records"`
				} `json:"data"`
			} `json:"notify_event"`
		} `json:"message"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		http.Error(w, "not a notify message", http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ev := range env.Message.NotifyEvent {
		c := Copy{Key: ev.ReferenceID}
		if len(ev.Data.RegRecords) > 0 {
			c.Person = ev.Data.RegRecords[0].Person
		}
		b.copies = append(b.copies, c)
	}
}

// Copies returns what arrived, in order.
func (b *Inbox) Copies() []Copy {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.copies)
}

// Subscribe points subscription id (push) at endpoint for moves (address changes), and
// returns up to n persons its institution has a file on today.
func Subscribe(ctx context.Context, store, id, endpoint string, n int) ([]string, error) {
	db, err := sqlstore.Open(ctx, store, sqlstore.Hub)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	d := directory.New(db.Directory(), nil)
	sub, _, err := directory.Get[directory.Subscription](ctx, d, id)
	if err != nil {
		return nil, fmt.Errorf("subscription %s: %w", id, err)
	}
	sub.Endpoint = endpoint
	if !slices.Contains(sub.EventTypes, "address") {
		sub.EventTypes = append(sub.EventTypes, "address")
	}
	if _, _, err := directory.Put(ctx, d, "cluster", sub, directory.AnyVersion); err != nil {
		return nil, err
	}
	page, err := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: sub.Institution, Day: d.Today(), Limit: n})
	if err != nil {
		return nil, err
	}
	var persons []string
	for _, g := range page {
		persons = append(persons, g.Person)
	}
	if len(persons) == 0 {
		return nil, fmt.Errorf("%s has no files to follow", sub.Institution)
	}
	return persons, nil
}

// Mover records changes of address of persons in the civil register of store, straight in
// the store (as the register's officers would through any replica), and remembers the
// key each change's copy to subscription must arrive under.
type Mover struct {
	Persons      []string
	Subscription string

	db   *sqlstore.DB
	mu   sync.Mutex
	want []string // keys, in order of recording
}

// OpenMover opens the civil register of store.
func OpenMover(ctx context.Context, store, subscription string, persons []string) (*Mover, error) {
	db, err := sqlstore.Open(ctx, store, sqlstore.Civil)
	if err != nil {
		return nil, err
	}
	return &Mover{Persons: persons, Subscription: subscription, db: db}, nil
}

// Close closes the store.
func (m *Mover) Close() error { return m.db.Close() }

// Move records one change of address, of the next person in turn.
func (m *Mover) Move(ctx context.Context) error {
	m.mu.Lock()
	n := len(m.want)
	m.mu.Unlock()
	p := m.Persons[n%len(m.Persons)]
	ev, err := m.db.Population().Record(ctx, population.Event{Type: population.EventAddress, Person: p, Date: 20261201},
		func(pp *population.Person) error { pp.Address.HouseNumber = strconv.Itoa(n); return nil })
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.want = append(m.want, "civil:"+strconv.FormatInt(ev.Seq, 10)+"/"+m.Subscription)
	m.mu.Unlock()
	return nil
}

// Recorded returns the keys of the changes recorded so far.
func (m *Mover) Recorded() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.want)
}

// Delivery is what a subscriber received of the changes recorded.
type Delivery struct {
	Recorded, Missing, Repeats, OutOfOrder int
	Problems                               []string
}

// CheckDelivery compares what arrived with what was recorded: each change once at least
// (a repeat is allowed, at-least-once, and counted), and each person's changes in the order
// of their seqs (a repeat's first arrival counts).
func CheckDelivery(recorded []string, got []Copy) Delivery {
	d := Delivery{Recorded: len(recorded)}
	seen := map[string]bool{}
	last := map[string]int64{}
	for _, c := range got {
		if seen[c.Key] {
			d.Repeats++
			continue
		}
		seen[c.Key] = true
		seq, _ := strconv.ParseInt(strings.TrimPrefix(strings.SplitN(c.Key, "/", 2)[0], "civil:"), 10, 64)
		if seq < last[c.Person] {
			d.OutOfOrder++
			if len(d.Problems) < 10 {
				d.Problems = append(d.Problems, fmt.Sprintf("person %s: change %d arrived after %d", c.Person, seq, last[c.Person]))
			}
		}
		last[c.Person] = max(last[c.Person], seq)
	}
	for _, k := range recorded {
		if !seen[k] {
			d.Missing++
			if len(d.Problems) < 10 {
				d.Problems = append(d.Problems, k+" never arrived")
			}
		}
	}
	return d
}
