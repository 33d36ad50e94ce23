package dci

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

func TestReasonOf(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{Coded(fault.Invalid, RjctFilterInvalid, "query", "x"), RjctFilterInvalid},
		{fault.Invalidf("query.type", "unknown identifier type"), RjctCriteriaInvalid},
		{fault.Invalidf("sort[0]", "bad"), RjctSortInvalid},
		{fault.Invalidf("pagination.page_size", "bad"), RjctPaginationInvalid},
		{fault.Invalidf("header.meta.on_date", "today only"), RjctCriteriaInvalid},
		{fault.Forbiddenf("not yours"), ""},
		{fault.Unavailablef(nil, "source down"), ""},
	}
	for _, tt := range tests {
		if got := ReasonOf(tt.err); got != tt.want {
			t.Errorf("ReasonOf(%v) = %q; want %q", tt.err, got, tt.want)
		}
	}
}
