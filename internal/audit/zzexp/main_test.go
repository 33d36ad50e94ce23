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
	for _, mode := range []string{"multi128"} {
		opts := dsnOpts
		if strings.Contains(mode, "nommap") {
			opts = strings.Replace(opts, "mmap_size(1073741824)", "mmap_size(0)", 1)
		}
		if strings.Contains(mode, "smallcache") {
			opts = strings.Replace(opts, "cache_size(-131072)", "cache_size(-2000)", 1)
		}
		db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db")+opts)
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
		last, lastSeq := time.Now(), 0
		for time.Since(start) < 20*time.Second {
			if time.Since(last) > 2*time.Second {
				fmt.Printf("  %.0f rows/s\n", float64(seq-lastSeq)/time.Since(last).Seconds())
				last, lastSeq = time.Now(), seq
			}
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
