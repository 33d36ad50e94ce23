package portal

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/metrics"
)

// Admin is what the operators' console reads and the one thing it does (retry dead
// letters). Every view is read-only and shows no personal data: counts, states, the
// audit log's checkpoints.
type Admin struct {
	// Check returns the administrator a token belongs to (the directory's admin tokens).
	Check func(ctx context.Context, token string) (actor string, err error)
	// Counts are the directory's records by kind.
	Counts func(ctx context.Context) (map[string]int, error)
	// Deliveries is the event pipeline's state (events.Status), nil without one.
	Deliveries func(ctx context.Context) (DeliveryStatus, error)
	// Dead lists copies set aside ("": every subscription); Retry sends a subscription's
	// again and returns how many.
	Dead  func(ctx context.Context, subscription string, limit int) ([]json.RawMessage, error)
	Retry func(ctx context.Context, subscription string) (int, error)
	// Authorizations and Subscriptions are the directory's (those in force are shown).
	Authorizations func(ctx context.Context) ([]directory.Authorization, error)
	Subscriptions  func(ctx context.Context) ([]directory.Subscription, error)
	// Checkpoints are the audit log's latest signed checkpoints, at most n, newest first.
	Checkpoints func(ctx context.Context, n int) ([]audit.StoredCheckpoint, error)
	// Metrics are the hub's own HTTP counters sampled every few seconds (charts); nil: none.
	Metrics *metrics.Ring
}

// DeliveryStatus is the pipeline's state as the console shows it.
type DeliveryStatus struct {
	Changes, Routed, Withheld, Delivered, Failed int64
	Subscriptions                                []SubscriptionState
}

// SubscriptionState is one push subscription's deliveries.
type SubscriptionState struct {
	Subscription, Endpoint string
	Pending                uint64
	InFlight, Redelivered  int
	Dead                   int // copies set aside (at most deadCount counted)
}

const deadCount = 1000

func (p *Portal) adminPage(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	a := p.cfg.Admin
	if a == nil {
		return pageErr(http.StatusNotFound, "error.notfound", nil)
	}
	if ss.Admin == "" {
		p.render(w, r, ss, lang, "admin", map[string]any{})
		return nil
	}
	data := map[string]any{"Retried": r.URL.Query().Get("retried")}
	if a.Counts != nil {
		counts, err := a.Counts(r.Context())
		if err != nil {
			return err
		}
		var kinds []string
		for k := range counts {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		data["Kinds"], data["Counts"] = kinds, counts
	}
	if a.Deliveries != nil {
		st, err := a.Deliveries(r.Context())
		if err != nil {
			return err
		}
		if a.Dead != nil {
			dead, err := a.Dead(r.Context(), "", deadCount)
			if err != nil {
				return err
			}
			by := map[string]int{}
			for _, d := range dead {
				var c struct {
					Subscription string `json:"subscription"`
				}
				if json.Unmarshal(d, &c) == nil {
					by[c.Subscription]++
				}
			}
			for i := range st.Subscriptions {
				st.Subscriptions[i].Dead = by[st.Subscriptions[i].Subscription]
			}
		}
		data["Deliveries"] = st
	}
	if err := p.adminDirectory(r, a, data); err != nil {
		return err
	}
	if a.Checkpoints != nil {
		cps, err := a.Checkpoints(r.Context(), shownCheckpoints)
		if err != nil {
			return err
		}
		data["Checkpoints"] = cps
	}
	data["Charts"] = a.Metrics != nil
	if tr := p.cfg.Transparency; tr != nil && tr.Checkpoint != nil {
		if cp, err := tr.Checkpoint(r.Context()); err == nil {
			data["Checkpoint"] = cp
		}
		if tr.Cosignatures != nil {
			cs, err := tr.Cosignatures(r.Context())
			if err != nil {
				return err
			}
			data["Witnesses"] = cs
		}
	}
	p.render(w, r, ss, lang, "admin", data)
	return nil
}

// shownCheckpoints is how many of the latest checkpoints the console lists.
const shownCheckpoints = 10

// subscriptionView is a subscription of the directory with its deliveries.
type subscriptionView struct {
	directory.Subscription
	State *SubscriptionState // push subscriptions the pipeline knows; nil: none yet or pull
}

// adminDirectory adds the authorizations in force (at most maxShown, by institution)
// and the subscriptions with their delivery state to the console's data.
func (p *Portal) adminDirectory(r *http.Request, a *Admin, data map[string]any) error {
	if a.Authorizations != nil {
		all, err := a.Authorizations(r.Context())
		if err != nil {
			return err
		}
		today := p.today()
		var shown []directory.Authorization
		total := 0
		for _, x := range all {
			if x.ValidOn(today) {
				total++
				shown = append(shown, x)
			}
		}
		slices.SortFunc(shown, func(a, b directory.Authorization) int {
			return strings.Compare(a.Institution+"\xff"+a.Service+"\xff"+a.ID, b.Institution+"\xff"+b.Service+"\xff"+b.ID)
		})
		data["Authorizations"], data["AuthTotal"] = shown[:min(len(shown), maxShown)], total
	}
	if a.Subscriptions != nil {
		subs, err := a.Subscriptions(r.Context())
		if err != nil {
			return err
		}
		states := map[string]*SubscriptionState{}
		if st, ok := data["Deliveries"].(DeliveryStatus); ok {
			for i := range st.Subscriptions {
				states[st.Subscriptions[i].Subscription] = &st.Subscriptions[i]
			}
		}
		var out []subscriptionView
		for _, s := range subs {
			if s.Active() {
				out = append(out, subscriptionView{Subscription: s, State: states[s.ID]})
			}
		}
		slices.SortFunc(out, func(a, b subscriptionView) int { return strings.Compare(a.Institution+a.ID, b.Institution+b.ID) })
		data["Subscriptions"] = out[:min(len(out), maxShown)]
	}
	return nil
}

// adminLogin takes an administrator token (failures limited by address).
func (p *Portal) adminLogin(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	a, from := p.cfg.Admin, clientAddr(r)
	if a == nil || a.Check == nil || !p.limits.allow("admin-login:"+from, budgetAdminLogin) {
		return pageErr(http.StatusTooManyRequests, "error.limit", nil)
	}
	actor, err := a.Check(r.Context(), strings.TrimSpace(r.PostForm.Get("token")))
	if err != nil {
		p.limits.charge("admin-login:"+from, budgetAdminLogin)
		return pageErr(http.StatusUnauthorized, "error.login", err)
	}
	old := ""
	if c, err := r.Cookie(p.cookieName()); err == nil {
		old = c.Value
	}
	ss.Admin, ss.Person, ss.Name, ss.Pro, ss.Proof = actor, "", "", nil, nil
	p.setCookie(w, p.sessions.rotate(old, ss))
	p.log.Info("portal: administrator logged in to the console", "actor", actor)
	http.Redirect(w, r, Prefix+"admin", http.StatusSeeOther)
	return nil
}

// adminRetry sends a subscription's dead letters again.
func (p *Portal) adminRetry(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	a := p.cfg.Admin
	if ss.Admin == "" || a == nil || a.Retry == nil {
		http.Redirect(w, r, Prefix+"admin", http.StatusSeeOther)
		return nil
	}
	sub := r.PostForm.Get("subscription")
	if sub == "" || len(sub) > 200 {
		return pageErr(http.StatusBadRequest, "error.notfound", nil)
	}
	n, err := a.Retry(r.Context(), sub)
	if err != nil {
		return err
	}
	p.log.Info("portal: dead letters sent again", "actor", ss.Admin, "subscription", sub, "copies", n)
	http.Redirect(w, r, Prefix+"admin?retried="+itoa(n), http.StatusSeeOther)
	return nil
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
