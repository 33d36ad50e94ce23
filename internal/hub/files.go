package hub

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/perm"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// dataFolders are the folders that hold the hub's files and that it did not make its
// own: that of each SQLite store, of the key file, and of the embedded bus's folder.
func dataFolders(cfg Config) []string {
	var out []string
	add := func(file string) {
		if d := filepath.Clean(filepath.Dir(file)); !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	for _, dsn := range []string{cfg.Store, cfg.Civil} {
		if p, ok := sqlstore.SQLiteFile(dsn); ok {
			add(p)
		}
	}
	if cfg.KeyFile != "" {
		add(cfg.KeyFile)
	}
	if cfg.NATS == "" {
		add(eventsDir(cfg))
	}
	return out
}

// warnExposed says, in the log and on Out, which data folders other users may list or
// change. The files in them are the owner's only, but their names (and, where others
// may write, the files themselves: replaced, or linked elsewhere before the hub makes
// them) are not; the folder is the operator's to fix, not the hub's to change.
func warnExposed(cfg Config) {
	for _, dir := range dataFolders(cfg) {
		how, mode, err := perm.Exposed(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			cfg.log().Warn("cannot check the data folder's mode", "folder", dir, "err", err)
			continue
		}
		if how == "" {
			continue
		}
		cfg.log().Warn("the data folder is "+how+" by other users; make it the owner's only (chmod 700)",
			"folder", dir, "mode", fmt.Sprintf("%04o", mode))
		if cfg.Out != nil {
			fmt.Fprintf(cfg.Out, "Warning: the data folder %s is %s by other users (mode %04o); make it the owner's only: chmod 700 %s\n", dir, how, mode, dir)
		}
	}
}
