package exchange

import (
	"fmt"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// identifies says why q is not an identification under an authorization whose
// Identify fields are fields ("" when it is one, or when the authorization is not one
// of identification): a filter fixing each field by equality, a page of at most
// directory.MaxIdentifyRecords.
func identifies(q query.Query, fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	if q.Kind != query.KindFilter {
		return "an authorization of identification answers a search by " + strings.Join(fields, ", ") + ", never a look-up"
	}
	pinned := q.Filter.Pinned()
	for _, f := range fields {
		if !pinned[f] {
			return "an authorization of identification answers only a filter fixing each of " + strings.Join(fields, ", ") + " by equality; " + clip(f) + " is not"
		}
	}
	if q.PageSize <= 0 || q.PageSize > directory.MaxIdentifyRecords || q.Page != 1 {
		return fmt.Sprintf("an authorization of identification answers the first page of at most %d records", directory.MaxIdentifyRecords)
	}
	return ""
}
