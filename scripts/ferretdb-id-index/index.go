package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	_ "modernc.org/sqlite" // the SQLite FerretDB v1.24.2 itself uses
)

// indexPrefix starts the name of every index this program creates. FerretDB names its SQLite
// indexes "<table>_<index name>", and a table name never starts with "$" (collection names cannot
// contain it), so no index a client creates through FerretDB can ever take this name.
const indexPrefix = "$id_lookup_"

// missing lists the collections' tables that lack our index. Comparing with sqlite_master rather
// than remembering what was done keeps a database dropped and created again under the same name
// (the same tables) right.
const missing = `SELECT table_name FROM _ferretdb_collections WHERE NOT EXISTS (
	SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = '` + indexPrefix + `' || table_name)`

// dsn opens an existing file read-write only: mode=rw never creates one, so a database that
// FerretDB drops meanwhile stays dropped. FerretDB waits up to 10 s for a lock; we wait a little less.
func dsn(file string) string {
	return "file:" + (&url.URL{Path: file}).EscapedPath() + "?mode=rw&_pragma=busy_timeout(5000)"
}

func quote(identifier string) string {
	return `"` + strings.ReplaceAll(identifier, `"`, `""`) + `"`
}

// indexFile creates the missing _id indexes in one FerretDB database file and says how many.
// A file that is gone, or that FerretDB has created but not yet given its metadata table, has
// nothing to index yet: that is no error.
func indexFile(ctx context.Context, file string) (int, error) {
	db, err := sql.Open("sqlite", dsn(file))
	if err != nil {
		return 0, err
	}
	// Open only for this pass. While we are connected, a database FerretDB drops keeps its -wal
	// and -shm files, and one created again under the same name before we close would share them
	// (FerretDB then fails with disk I/O errors): short passes keep that window to a fraction of a
	// millisecond per changed file.
	defer db.Close()
	db.SetMaxOpenConns(1)

	tables, err := missingTables(ctx, db)
	if err != nil {
		if gone(file) || strings.Contains(err.Error(), "no such table: _ferretdb_collections") {
			return 0, nil
		}
		return 0, err
	}
	created := 0
	for _, table := range tables {
		q := fmt.Sprintf(
			"CREATE INDEX IF NOT EXISTS %s ON %s (_ferretdb_sjson->'$._id')",
			quote(indexPrefix+table), quote(table),
		)
		if _, err := db.ExecContext(ctx, q); err != nil {
			// A collection dropped since the listing: the next pass will not list it.
			if strings.Contains(err.Error(), "no such table") {
				continue
			}
			return created, fmt.Errorf("%s: %w", table, err)
		}
		created++
	}
	return created, nil
}

// missingTables reads the whole list first: the one connection must be free for CREATE INDEX, and
// a read transaction left open would make the write fail with SQLITE_BUSY_SNAPSHOT.
func missingTables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, missing)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var table string
		if err := rows.Scan(&table); err != nil {
			return nil, err
		}
		tables = append(tables, table)
	}
	return tables, rows.Err()
}

func gone(file string) bool {
	_, err := os.Stat(file)
	return errors.Is(err, fs.ErrNotExist)
}
