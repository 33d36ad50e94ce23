package bank_test

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/bank/banktest"
)

func TestMemStore(t *testing.T) {
	banktest.Run(t, func(*testing.T) bank.Store { return bank.NewMemStore() })
}
