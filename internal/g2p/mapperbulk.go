package g2p

import (
	"context"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// The mapper in bulk (G2P Connect mapper link, update, unlink): a message of up to
// MaxMapperItems items, each decided and applied on its own: a refused item never stops
// the others, and an item is applied whole (verified with the bank, linked, recorded)
// or not at all.

// MaxMapperItems bounds the items of one mapper message.
const MaxMapperItems = 1000

// Mapper operations.
const (
	OpLink   = "link"   // a first account: refused when one is linked
	OpUpdate = "update" // another account: refused when none is linked
	OpUnlink = "unlink"
)

// MapperItem is one item of a mapper message: the person and, to link or update, the
// account.
type MapperItem struct {
	Person  string
	Account iban.IBAN
}

// MapperResult is the verdict on one item: done, or refused with the G2P Connect
// reason code and why.
type MapperResult struct {
	Done   bool
	Reason string // the document's status_reason_code when refused
	Why    string
	Seqs   []int64
}

// Map applies op to each item, in order, and gives a verdict per item. An error is a
// failure of the hub or the bank, after which the items not yet applied are not; the
// results say which were.
func (s *Service) Map(ctx context.Context, op string, items []MapperItem) ([]MapperResult, error) {
	if len(items) == 0 || len(items) > MaxMapperItems {
		return nil, fault.Invalidf("items", "1 to %d items in one message, got %d", MaxMapperItems, len(items))
	}
	if op != OpLink && op != OpUpdate && op != OpUnlink {
		return nil, fault.Invalidf("operation", "link, update or unlink, not %q", clip(op))
	}
	out := make([]MapperResult, len(items))
	for i, it := range items {
		res, err := s.mapOne(ctx, op, it)
		if err != nil {
			return out[:i], err
		}
		out[i] = res
	}
	return out, nil
}

func (s *Service) mapOne(ctx context.Context, op string, it MapperItem) (MapperResult, error) {
	if err := s.mayMap(ctx, it.Person); err != nil {
		if fault.KindOf(err) != fault.Forbidden {
			return MapperResult{}, err
		}
		seq, rerr := s.Hub.Record(ctx, Action{Service: "g2p.mapper", Purpose: op + " " + s.Programme.Name, Persons: []string{it.Person},
			Outcome: "refused", Reasons: []string{err.Error()}, Deny: true})
		return MapperResult{Reason: "rjct.id.invalid", Why: err.Error(), Seqs: []int64{seq}}, rerr
	}
	if op == OpUnlink {
		seq, err := s.Unlink(ctx, it.Person)
		if fault.KindOf(err) == fault.NotFound {
			return MapperResult{Reason: "rjct.id.invalid", Why: "no account is linked to " + it.Person}, nil
		}
		return MapperResult{Done: err == nil, Seqs: []int64{seq}}, err
	}
	ms, err := s.Store.Resolve(ctx, []string{it.Person})
	if err != nil {
		return MapperResult{}, err
	}
	if _, linked := ms[it.Person]; linked && op == OpLink {
		return MapperResult{Reason: "rjct.id.invalid", Why: it.Person + " has an account linked already: send an update"}, nil
	} else if !linked && op == OpUpdate {
		return MapperResult{Reason: "rjct.id.invalid", Why: it.Person + " has no account linked: send a link"}, nil
	}
	st, err := s.Update(ctx, it.Person, it.Account)
	if err != nil {
		return MapperResult{}, err
	}
	if st.Outcome != OK {
		return MapperResult{Reason: "rjct.fa.invalid", Why: st.Why + ": " + st.What, Seqs: st.Seqs}, nil
	}
	return MapperResult{Done: true, Seqs: st.Seqs}, nil
}
