package sqlstore_test

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/bank/banktest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

func TestBank(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			banktest.Run(t, func(t *testing.T) bank.Store { return b.open(t, sqlstore.Bank).Bank() })
		})
	}
}
