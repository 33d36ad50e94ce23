// Package mutations decides who hears of a change in an authentic source: the
// institutions that (a) have a file on a person the change concerns, in a capacity and
// period that cover the change's date (a death: or the day it is routed), (b)
// subscribed to this kind of change (with a capacity filter), and (c) hold an
// authorization in force for the source's data — and what each may see of it. Nobody
// else: not every subscriber of a topic.
//
// The package decides only. Reading the sources' outboxes, carrying the deliveries over
// the event bus and pushing them to the subscribers are package events' (issue #5).
package mutations

import (
	"slices"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
)

// Mutation is a change in an authentic source.
type Mutation struct {
	Source   string // the source's name: "civil" (the built-in sources' log)
	Service  string // the directory service its data belong to: "civil-person"
	Registry string // the registry whose record it carries, when not the civil register's: "social"
	Seq      int64  // the source's sequence number of the change
	ID       string // the change's own id, when its source names it (a remote notify); "": Source:Seq
	Type     string // birth, death, marriage, divorce, address, …
	WireType string // Type as the registry's DCI document names it in a notify, when it differs
	// RecordType is the record's reg_record_type as a remote source named it in its
	// notify; "": the registry's own.
	RecordType string
	// Purpose, when set, is the purpose the recipient's authorization must name (a
	// rights decision: right:<id>, so that an institution hears only of its rights).
	Purpose string
	Person  string    // the person changed
	Related []string  // other persons the change concerns: a newborn's parents, a spouse
	Date    date.Date // when it happened
	Record  map[string]any
}

// Key is the change's idempotency key for one subscription: a subscriber that receives
// a delivery twice sees the same key.
func (m Mutation) Key(subscription string) string {
	if m.ID != "" {
		return m.ID + "/" + subscription
	}
	return m.Source + ":" + strconv.FormatInt(m.Seq, 10) + "/" + subscription
}

// Delivery is one subscriber's copy of a change.
type Delivery struct {
	Key           string
	Subscription  directory.Subscription
	Person        string // the person of the file that made the subscriber a recipient
	Capacity      string
	Authorization string
	Record        map[string]any // the changed record, minimised to the authorization's fields
}

// Decision is why a subscriber does or does not receive a change, for the audit log.
type Decision struct {
	Subscription string
	Institution  string
	Deliver      bool
	Reason       string
}

// Router decides from the person directory, the subscriptions and the authorizations.
type Router struct {
	// Files returns the files on person in force on day.
	Files func(person string, day date.Date) []directory.Integration
	// Subscriptions lists the subscriptions in force.
	Subscriptions func() []directory.Subscription
	// Policy is the exchange's policy in force.
	Policy func() *exchange.Policy
	// Today is the day the change is routed: the authorization must be in force then.
	// nil: the change's own date.
	Today func() date.Date
}

// Route returns the deliveries of m, at most one per subscription, and a decision for
// every subscription to m's type of an institution with a file on a person concerned.
func (r *Router) Route(m Mutation) ([]Delivery, []Decision) {
	var deliveries []Delivery
	var decisions []Decision
	subs := r.Subscriptions()
	policy := r.Policy()
	today, days := r.days(m)
	done := map[string]bool{}
	for _, person := range append([]string{m.Person}, m.Related...) {
		for _, day := range days {
			decisions, deliveries = r.routeOn(m, person, day, today, subs, policy, done, decisions, deliveries)
		}
	}
	return deliveries, decisions
}

// Concerns reports whether Route decides anything about m: an institution with a file
// on a person m concerns, on a day it is routed on, subscribed to m's type in the file's
// capacity. When none is, nobody receives m and no decision is recorded, so m.Record
// need not be derived (events: a registry's record rebuilt with its household).
func (r *Router) Concerns(m Mutation) bool {
	subs := r.Subscriptions()
	_, days := r.days(m)
	for _, person := range append([]string{m.Person}, m.Related...) {
		for _, day := range days {
			for _, f := range r.Files(person, day) {
				for _, s := range subs {
					if subscribed(s, f, m.Type) {
						return true
					}
				}
			}
		}
	}
	return false
}

// days returns the day m is routed and the days whose files it concerns.
func (r *Router) days(m Mutation) (today date.Date, days []date.Date) {
	today = m.Date
	if r.Today != nil {
		today = r.Today()
	}
	// A death ends every file after it: one recorded late, dated before a file began
	// (a person registered while already dead), still concerns the files in force on
	// the day it is routed, or the dead person keeps being paid.
	days = []date.Date{m.Date}
	if m.Type == "death" && today > m.Date {
		days = append(days, today)
	}
	return today, days
}

// subscribed reports whether subscription s takes changes of type typ through file f:
// the file's institution's, active, to that type, in the file's capacity.
func subscribed(s directory.Subscription, f directory.Integration, typ string) bool {
	return s.Institution == f.Institution && s.Active() && slices.Contains(s.EventTypes, typ) &&
		(len(s.Capacities) == 0 || slices.Contains(s.Capacities, f.Capacity))
}

// routeOn adds the deliveries and decisions of m for the files on person in force on day.
func (r *Router) routeOn(m Mutation, person string, day, today date.Date, subs []directory.Subscription, policy *exchange.Policy,
	done map[string]bool, decisions []Decision, deliveries []Delivery) ([]Decision, []Delivery) {
	for _, f := range r.Files(person, day) {
		for _, s := range subs {
			if done[s.ID] || !subscribed(s, f, m.Type) {
				continue
			}
			d := policy.Decide(exchange.Question{Institution: s.Institution, Service: m.Service, Purpose: m.Purpose, Day: today})
			ok, why := policy.Permits(d, s.Institution, person, day)
			if !d.Permit {
				why = d.Reasons[0]
			}
			done[s.ID] = ok // a refusal for one person leaves room for another's file
			decisions = append(decisions, Decision{Subscription: s.ID, Institution: s.Institution, Deliver: ok, Reason: why})
			if !ok {
				continue
			}
			deliveries = append(deliveries, Delivery{Key: m.Key(s.ID), Subscription: s, Person: person, Capacity: f.Capacity,
				Authorization: d.Authorization, Record: exchange.Minimise(m.Record, d.Fields)})
		}
	}
	return decisions, deliveries
}
