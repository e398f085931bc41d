// Go pgx v4 (pure Go, no libpq; Debian's golang-github-jackc-pgx-v4-dev),
// through `herokupq proxy`. Built with proxy_go_loop.go (the protocol).
package main

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v4"
)

const driverName = "proxy_pgx"

type pgxSession struct{ conn *pgx.Conn }

// sslmode=disable: the hop to the local proxy has no TLS; its hop to the
// database has (the query shows it).
func open(ctx context.Context, t target) (session, error) {
	config, err := pgx.ParseConfig("sslmode=disable")
	if err != nil {
		return nil, err
	}
	config.Host, config.User, config.Database, config.Password = t.host, t.user, t.dbname, t.password
	port, err := strconv.ParseUint(t.port, 10, 16)
	if err != nil {
		return nil, err
	}
	config.Port = uint16(port)
	conn, err := pgx.ConnectConfig(ctx, config)
	if err != nil {
		return nil, err
	}
	return &pgxSession{conn}, nil
}

func (s *pgxSession) whoami(ctx context.Context) (user, db string, ssl bool, err error) {
	err = s.conn.QueryRow(ctx, whoamiQuery).Scan(&user, &db, &ssl)
	if err == pgx.ErrNoRows {
		err = errNoRow
	}
	return
}

func (s *pgxSession) backendPID(ctx context.Context) (pid int64, err error) {
	err = s.conn.QueryRow(ctx, "SELECT pg_backend_pid()::int8").Scan(&pid)
	return
}

func (s *pgxSession) close() { s.conn.Close(context.Background()) }
