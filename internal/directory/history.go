package directory

import "context"

// History returns changes in sequence order, as they may be shown outside the store
// (the admin API, the CLI): the change of a secret without its hashes, before and after.
func (d *Directory) History(ctx context.Context, q HistoryQuery) ([]Change, error) {
	changes, err := d.store.History(ctx, q)
	for i := range changes {
		if changes[i].Kind == KindSecret {
			changes[i].Before, changes[i].After = nil, nil
		}
	}
	return changes, err
}
