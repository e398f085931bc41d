// The proxy drivers' protocol for the Go clients (built together with
// proxy_pgx.go or proxy_lib_pq.go, which define `driverName` and `open`):
//
//	proxy_pgx|proxy_lib_pq HOST PORT USER DBNAME [CTRLDIR]
//
// Output lines and CTRLDIR files as tests/clients/proxy_asyncpg.py says:
//
//	ok user=<current_user> db=<current_database> ssl=<t|f>  |  error <message>
//	with CTRLDIR: rounds of a held and a new connection until CTRLDIR/stop,
//	then `done rounds=N held_errors=N new_errors=N held_backends=N`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const whoamiQuery = "SELECT current_user, current_database(), ssl " +
	"FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
const roundPause = 50 * time.Millisecond
const connectTimeout = 15 * time.Second

var errNoRow = errors.New("the query returned no row")

// One connection of the driver under test.
type session interface {
	whoami(ctx context.Context) (user, db string, ssl bool, err error)
	backendPID(ctx context.Context) (int64, error)
	close()
}

type target struct{ host, port, user, dbname, password string }

func oneLine(err error) string {
	text := strings.Join(strings.Fields(err.Error()), " ")
	if text == "" {
		return "(no message)"
	}
	return text
}

func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

func connect(t target) (session, error) {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	return open(ctx, t)
}

func whoamiLine(s session) (string, error) {
	user, db, ssl, err := s.whoami(context.Background())
	if err != nil {
		return "", err
	}
	flag := "f"
	if ssl {
		flag = "t"
	}
	return fmt.Sprintf("ok user=%s db=%s ssl=%s", user, db, flag), nil
}

func once(t target) (string, error) {
	s, err := connect(t)
	if err != nil {
		return "", err
	}
	defer s.close()
	return whoamiLine(s)
}

type loop struct {
	t                                       target
	ctrl                                    string
	held                                    session
	pid                                     int64
	rounds, heldErrors, newErrors, backends int
}

func (l *loop) heldRound() {
	var err error
	if l.held == nil {
		l.held, err = connect(l.t)
	}
	if err == nil {
		var pid int64
		if pid, err = l.held.backendPID(context.Background()); err == nil && pid != l.pid {
			l.pid, l.backends = pid, l.backends+1
		}
	}
	if err != nil {
		l.heldErrors++
		fmt.Printf("error held: %s\n", oneLine(err))
		if l.held != nil {
			l.held.close()
			l.held = nil
		}
	}
}

func (l *loop) newRound() {
	if _, err := once(l.t); err != nil {
		l.newErrors++
		fmt.Printf("error new: %s\n", oneLine(err))
	}
}

func (l *loop) pauseIfAsked() {
	pause := filepath.Join(l.ctrl, "pause")
	if !exists(pause) {
		return
	}
	paused := filepath.Join(l.ctrl, "paused")
	if f, err := os.Create(paused); err == nil {
		f.Close()
	}
	for exists(pause) {
		time.Sleep(20 * time.Millisecond)
	}
	os.Remove(paused)
}

func (l *loop) run() error {
	var err error
	if l.held, err = connect(l.t); err != nil {
		return err
	}
	line, err := whoamiLine(l.held)
	if err != nil {
		return err
	}
	fmt.Println(line)
	for !exists(filepath.Join(l.ctrl, "stop")) {
		l.pauseIfAsked()
		l.rounds++
		l.heldRound()
		l.newRound()
		time.Sleep(roundPause)
	}
	if l.held != nil {
		l.held.close()
	}
	fmt.Printf("done rounds=%d held_errors=%d new_errors=%d held_backends=%d\n",
		l.rounds, l.heldErrors, l.newErrors, l.backends)
	return nil
}

func main() {
	if len(os.Args) != 5 && len(os.Args) != 6 {
		fmt.Fprintf(os.Stderr, "usage: %s HOST PORT USER DBNAME [CTRLDIR]\n", driverName)
		os.Exit(2)
	}
	t := target{os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Getenv("PGPASSWORD")}
	var err error
	if len(os.Args) == 6 {
		err = (&loop{t: t, ctrl: os.Args[5]}).run()
	} else {
		var line string
		if line, err = once(t); err == nil {
			fmt.Println(line)
		}
	}
	if err != nil { // the first connection or query failed
		fmt.Printf("error %s\n", oneLine(err))
		os.Exit(1)
	}
}
