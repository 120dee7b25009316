package main

import (
	"context"
	"log"
	"os"
	"path/filepath"
	"strings"
)

// version tells whether a database file may have changed since it was last indexed: every commit
// writes its -wal file (or, without WAL, the file itself), and a file dropped and created again
// has a new modification time.
type version struct {
	size, modified, walSize, walModified int64 // bytes, Unix nanoseconds
}

func versionOf(file string) (version, bool) {
	info, err := os.Stat(file)
	if err != nil {
		return version{}, false
	}
	v := version{size: info.Size(), modified: info.ModTime().UnixNano()}
	if wal, err := os.Stat(file + "-wal"); err == nil {
		v.walSize, v.walModified = wal.Size(), wal.ModTime().UnixNano()
	}
	return v, true
}

// watcher remembers, per file, the version it last indexed completely and the last error it
// logged, so that an idle directory costs a few stat calls a pass and an error is logged once.
type watcher struct {
	dir     string
	indexed map[string]version
	failed  map[string]string
}

func newWatcher(dir string) *watcher {
	return &watcher{dir: dir, indexed: map[string]version{}, failed: map[string]string{}}
}

// pass indexes every database file of the directory that changed since the last pass. It returns
// how many indexes it created and whether every file succeeded.
func (w *watcher) pass(ctx context.Context) (int, bool) {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		w.report(w.dir, err)
		return 0, false
	}
	seen := map[string]bool{}
	created, ok := 0, true
	for _, entry := range entries {
		if entry.IsDir() || !strings.HasSuffix(entry.Name(), ".sqlite") {
			continue
		}
		file := filepath.Join(w.dir, entry.Name())
		seen[file] = true
		// Read before indexing: a commit made meanwhile then counts as a change next pass.
		v, exists := versionOf(file)
		if !exists || w.indexed[file] == v {
			continue
		}
		n, err := indexFile(ctx, file)
		created += n
		if ctx.Err() != nil {
			return created, ok // stopping: an interrupted statement is no failure to report
		}
		if err != nil {
			ok = false
			w.report(file, err)
			continue
		}
		w.indexed[file] = v
		delete(w.failed, file)
	}
	// Forget files that are gone, including ones that only ever failed.
	for file := range w.indexed {
		if !seen[file] {
			delete(w.indexed, file)
		}
	}
	for file := range w.failed {
		if !seen[file] {
			delete(w.failed, file)
		}
	}
	return created, ok
}

// report logs an error unless it is the one already logged for the same file.
func (w *watcher) report(file string, err error) {
	if w.failed[file] == err.Error() {
		return
	}
	w.failed[file] = err.Error()
	log.Printf("%s: %v", filepath.Base(file), err)
}
