package portal

import (
	"context"
	"encoding/json"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// Client is the client id the portal's exchanges are recorded under.
const Client = "crossroads-portal"

// fetchRecords reads person's records of service on day through the exchange, as the
// person themselves, and seals the exchange in the audit log before returning anything.
func (p *Portal) fetchRecords(ctx context.Context, person, service string, day date.Date) ([]map[string]any, error) {
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: Client, Institution: exchange.SelfInstitution}, Service: service, Purpose: exchange.SelfPurpose,
		Day: day, Query: query.Query{Kind: query.KindID, IDType: "PN", IDValue: person}, Start: p.now()}
	ask.Request, _ = json.Marshal(map[string]any{"service": service, "person": person, "day": day.String()})
	ans := p.cfg.Exchange.SearchSelf(ctx, ask, person)
	recs := ans.Decoded()
	body, _ := json.Marshal(recs)
	if ans.Err != nil {
		body = nil
	}
	if _, err := p.cfg.Exchange.Seal(ctx, ask, ans, body); err != nil {
		return nil, err
	}
	if ans.Err != nil {
		return nil, ans.Err
	}
	return recs, nil
}

// today is the hub's current day.
func (p *Portal) today() date.Date { return date.FromTime(p.now()) }
