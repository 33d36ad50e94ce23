package zzexp

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func TestRaw(t *testing.T) {
	dsnOpts := "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=mmap_size(1073741824)&_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-131072)"
	for _, mode := range []string{"multi128", "single", "multi128-nobody", "single-nobody"} {
		db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db")+dsnOpts)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		db.Exec(`CREATE TABLE r (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)`)
		body := make([]byte, 600)
		if strings.HasSuffix(mode, "nobody") {
			body = body[:8]
		}
		multi, _ := db.Prepare(`INSERT INTO r (seq, body) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?), ", 128), ", "))
		single, _ := db.Prepare(`INSERT INTO r (seq, body) VALUES (?, ?)`)
		seq := 0
		start := time.Now()
		var tins, tcommit time.Duration
		for time.Since(start) < 2*time.Second {
			t0 := time.Now()
			tx, _ := db.Begin()
			if strings.HasPrefix(mode, "multi") {
				args := make([]any, 0, 256)
				for range 128 {
					seq++
					args = append(args, seq, body)
				}
				if _, err := tx.Stmt(multi).Exec(args...); err != nil {
					t.Fatal(err)
				}
			} else {
				st := tx.Stmt(single)
				for range 128 {
					seq++
					if _, err := st.Exec(seq, body); err != nil {
						t.Fatal(err)
					}
				}
			}
			t1 := time.Now()
			tx.Commit()
			tins += t1.Sub(t0)
			tcommit += time.Since(t1)
		}
		fmt.Printf("%s: %.0f rows/s; inserts %v/row, commit %v/batch\n", mode, float64(seq)/time.Since(start).Seconds(), tins/time.Duration(seq), tcommit/time.Duration(seq/128))
		db.Close()
	}
}
