package portal

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/directory"
)

// Transparency is what the public transparency page reads: the authorizations of the
// directory, the audit log's latest checkpoint, its witnesses' cosignatures and the key
// that verifies them.
type Transparency struct {
	Authorizations func(ctx context.Context) ([]directory.Authorization, error)
	Checkpoint     func(ctx context.Context) (audit.Checkpoint, error)
	Cosignatures   func(context.Context) ([]audit.Cosigned, error)
	VerifierKey    string
	// KeyHistory gives every key that signed checkpoints, with their sizes: evidence
	// signed before a rotation of the hub's key checks with the key of its period.
	KeyHistory func() ([]audit.KeyPeriod, error)
}

// maxShown bounds the authorizations one page lists.
const maxShown = 200

// transparency is public: every authorization in force today, searchable, with its
// legal basis and purpose; the latest checkpoint and who witnessed it; how to check
// one's own evidence.
func (p *Portal) transparency(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	tr := p.cfg.Transparency
	if tr == nil || tr.Authorizations == nil {
		return pageErr(http.StatusNotFound, "error.notfound", nil)
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	all, err := tr.Authorizations(r.Context())
	if err != nil {
		return err
	}
	today := p.today()
	var shown []directory.Authorization
	total := 0
	for _, a := range all {
		if !a.ValidOn(today) || !matches(a, q) {
			continue
		}
		total++
		if len(shown) < maxShown {
			shown = append(shown, a)
		}
	}
	slices.SortFunc(shown, func(a, b directory.Authorization) int {
		return strings.Compare(a.Institution+a.Service+a.ID, b.Institution+b.Service+b.ID)
	})
	data := map[string]any{"Q": q, "Authorizations": shown, "Total": total, "More": total > len(shown), "Key": tr.VerifierKey}
	if tr.Checkpoint != nil {
		if cp, err := tr.Checkpoint(r.Context()); err == nil {
			data["Checkpoint"] = cp
		}
	}
	if tr.Cosignatures != nil {
		cs, err := tr.Cosignatures(r.Context())
		if err != nil {
			return err
		}
		data["Witnesses"] = cs
	}
	if tr.KeyHistory != nil {
		keys, err := tr.KeyHistory()
		if err != nil {
			return err
		}
		data["Keys"] = keys
	}
	data["Hub"] = strings.TrimSuffix(p.cfg.Issuer, "/")
	p.render(w, r, ss, lang, "transparency", data)
	return nil
}

// matches says whether a's words hold q (case ignored); "" matches all.
func matches(a directory.Authorization, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	for _, s := range []string{a.ID, a.Institution, a.Service, a.Purpose, a.LegalBasis, a.Decision} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}
