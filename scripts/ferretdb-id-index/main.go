// Command ferretdb-id-index gives every collection of FerretDB v1's SQLite backend an index that
// its lookups by _id can use.
//
// FerretDB v1.24.2 runs a find, update or delete by {_id: <string|ObjectId>} as
// `WHERE _ferretdb_sjson->'$._id' = ?`, but its own _id_ index is on `_ferretdb_sjson->"_id"`.
// SQLite uses an expression index only for the identical expression, so every such lookup scans
// the table. This program adds `CREATE INDEX ... (_ferretdb_sjson->'$._id')` to every table listed
// in `_ferretdb_collections` of every *.sqlite file in FerretDB's --sqlite-url directory, while
// FerretDB runs; FerretDB never looks at indexes it did not create, and DROP TABLE removes them.
//
// Usage:
//
//	ferretdb-id-index DIR                        one pass; exit status 1 if a file failed
//	ferretdb-id-index -watch [-interval 250ms] DIR
//
// With -watch it repeats until its stdin closes, its parent process ends, or SIGTERM/SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("ferretdb-id-index: ")
	watch := flag.Bool("watch", false, "repeat until stdin closes or the parent process ends")
	interval := flag.Duration("interval", 250*time.Millisecond, "time between passes with -watch")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ferretdb-id-index [-watch] [-interval 250ms] DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *interval <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	dir := flag.Arg(0)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		log.Fatalf("%s is not a directory", dir)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	w := newWatcher(dir)
	if !*watch {
		created, ok := w.pass(ctx)
		fmt.Printf("created %d index(es)\n", created)
		if !ok {
			os.Exit(1)
		}
		return
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The parent holds our stdin open for as long as it wants us: end of file means it is gone
	// or done, however it ended.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	parent := os.Getppid()
	for ctx.Err() == nil && os.Getppid() == parent {
		w.pass(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(*interval):
		}
	}
}
