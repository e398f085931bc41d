// Go lib/pq through database/sql (pure Go, no libpq; Debian's
// golang-github-lib-pq-dev), through `herokupq proxy`. Built with
// proxy_go_loop.go (the protocol). A session is one *sql.Conn of a pool of
// its own: database/sql retries a query on a new connection when the driver
// reports a dead one only outside a Conn, so errors are seen, not hidden.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lib/pq"
)

const driverName = "proxy_lib_pq"

type pqSession struct {
	db   *sql.DB
	conn *sql.Conn
}

// sslmode=disable: the hop to the local proxy has no TLS (lib/pq's default
// is require); its hop to the database has (the query shows it).
func open(ctx context.Context, t target) (session, error) {
	dsn := fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=disable",
		quote(t.host), quote(t.port), quote(t.user), quote(t.dbname))
	if t.password != "" {
		dsn += " password=" + quote(t.password)
	}
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &pqSession{db, conn}, nil
}

func (s *pqSession) whoami(ctx context.Context) (user, db string, ssl bool, err error) {
	err = s.conn.QueryRowContext(ctx, whoamiQuery).Scan(&user, &db, &ssl)
	if err == sql.ErrNoRows {
		err = errNoRow
	}
	return
}

func (s *pqSession) backendPID(ctx context.Context) (pid int64, err error) {
	err = s.conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid)
	return
}

func (s *pqSession) close() {
	s.conn.Close()
	s.db.Close()
}

// A conninfo value in single quotes, its backslashes and quotes escaped.
func quote(value string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value) + "'"
}
