package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// PersonDocs reads many persons in one query (population.Many): a batch consultation
// asks for a chunk of up to population.MaxMany persons at once, where one query a person
// would cost a statement each; the documents are handed out as the driver holds them,
// not copied.
func (s *populationStore) PersonDocs(ctx context.Context, numbers []string, fn func(doc []byte) error) error {
	if len(numbers) > population.MaxMany {
		return fault.Invalidf("persons", "at most %d persons at once, not %d", population.MaxMany, len(numbers))
	}
	args := make([]any, 0, len(numbers))
	for _, n := range numbers {
		k, err := personKey(n)
		if err != nil {
			return fault.In("persons", err)
		}
		args = append(args, k)
	}
	if len(args) == 0 {
		return nil
	}
	q := `SELECT doc FROM person WHERE number IN (?` + strings.Repeat(", ?", len(args)-1) + `)`
	rows, err := s.db.r.QueryContext(ctx, s.db.q(q), args...)
	if err != nil {
		return mapErr(err, "get persons")
	}
	defer rows.Close()
	for rows.Next() {
		var doc sql.RawBytes
		if err := rows.Scan(&doc); err != nil {
			return mapErr(err, "get persons")
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
	return mapErr(rows.Err(), "get persons")
}
