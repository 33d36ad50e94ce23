package events

import (
	"context"
	"encoding/json"

	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/mutations"
)

// RemoteChange is a change a remote authentic source notified (DCI notify), as the
// router takes it from the bus.
type RemoteChange struct {
	Source     string         `json:"source"`                // the source's institution
	Service    string         `json:"service"`               // the directory service its data belong to
	Registry   string         `json:"registry,omitempty"`    // the registry it notified ("farmer"); "": the civil register
	RecordType string         `json:"record_type,omitempty"` // the reg_record_type it gave
	ID         string         `json:"id"`                    // the change's id: remote:<institution>:<transaction>/<reference>/<n>
	Type       string         `json:"type"`
	Person     string         `json:"person"`
	Date       date.Date      `json:"date"`
	Record     map[string]any `json:"record"`
}

func (c *RemoteChange) mutation() mutations.Mutation {
	return mutations.Mutation{Source: c.Source, Service: c.Service, Registry: c.Registry, RecordType: c.RecordType,
		ID: c.ID, Type: c.Type, Person: c.Person, Date: c.Date, Record: c.Record}
}

// Ingest takes a remote source's change onto the bus, to be routed as the register's are;
// m.ID is its idempotency key: a change notified twice is routed once.
func (p *Pipeline) Ingest(ctx context.Context, m mutations.Mutation) error {
	c := RemoteChange{Source: m.Source, Service: m.Service, Registry: m.Registry, RecordType: m.RecordType, ID: m.ID, Type: m.Type,
		Person: m.Person, Date: m.Date, Record: m.Record}
	body, _ := json.Marshal(map[string]any{"remote": c})
	_, err := p.bus.Publish(ctx, bus.Msg{Subject: "mutations.remote." + lane(c.Person), Data: body, ID: c.ID})
	return err
}
