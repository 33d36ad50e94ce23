package sqlstore_test

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/bank/banktest"
	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/g2p/g2ptest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

func TestBank(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			banktest.Run(t, func(t *testing.T) bank.Store { return b.open(t, sqlstore.Bank).Bank() })
		})
	}
}

func TestG2P(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			g2ptest.Run(t, func(t *testing.T) g2p.Store { return b.open(t, sqlstore.G2P).G2P() })
		})
	}
}
