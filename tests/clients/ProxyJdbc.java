// JDBC (PgJDBC, pure Java, no libpq; Debian's libpostgresql-jdbc-java), through
// `herokupq proxy`. Run as a source file, no build step:
//
//   java -cp /usr/share/java/postgresql.jar ProxyJdbc.java HOST PORT USER DBNAME [CTRLDIR]
//
// JDBC has no Unix sockets: HOST is the proxy's TCP address (--listen), and the
// password, the proxy's local one, comes from PGPASSWORD. Output lines and
// CTRLDIR files are the proxy drivers' (tests/clients/proxy_asyncpg.py):
//   ok user=<current_user> db=<current_database> ssl=<t|f>  |  error <message>
//   with CTRLDIR: rounds of a held and a new connection until CTRLDIR/stop,
//   then `done rounds=N held_errors=N new_errors=N held_backends=N`.
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

public class ProxyJdbc {
    static final String WHOAMI = "SELECT current_user, current_database(), ssl "
            + "FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    static final long ROUND_PAUSE_MS = 50;
    static final int CONNECT_TIMEOUT_S = 15;

    final String url;
    final Properties props = new Properties();

    ProxyJdbc(String host, String port, String user, String dbname) {
        url = "jdbc:postgresql://" + host + ":" + port + "/" + dbname;
        props.setProperty("user", user);
        String password = System.getenv("PGPASSWORD");
        if (password != null && !password.isEmpty()) {
            props.setProperty("password", password);
        }
        // No TLS to the local proxy; its hop to the database has (the query shows it).
        props.setProperty("sslmode", "disable");
        props.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_S));
        props.setProperty("loginTimeout", Integer.toString(CONNECT_TIMEOUT_S));
    }

    static String oneLine(Throwable e) {
        String text = String.valueOf(e.getMessage()).trim().replaceAll("\\s+", " ");
        return text.isEmpty() ? "(no message)" : text;
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(url, props);
    }

    static String whoami(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(WHOAMI)) {
            if (!rs.next()) {
                throw new SQLException("the query returned no row");
            }
            return "ok user=" + rs.getString(1) + " db=" + rs.getString(2)
                    + " ssl=" + (rs.getBoolean(3) ? "t" : "f");
        }
    }

    String once() throws SQLException {
        try (Connection conn = connect()) {
            return whoami(conn);
        }
    }

    public static void main(String[] args) {
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: ProxyJdbc.java HOST PORT USER DBNAME [CTRLDIR]");
            System.exit(2);
        }
        ProxyJdbc client = new ProxyJdbc(args[0], args[1], args[2], args[3]);
        try {
            if (args.length == 5) {
                new Loop(client, Path.of(args[4])).run();
            } else {
                System.out.println(client.once());
            }
        } catch (Exception e) { // the first connection or query failed
            System.out.println("error " + oneLine(e));
            System.exit(1);
        }
    }
}

class Loop {
    final ProxyJdbc client;
    final Path ctrl;
    Connection held;
    int pid;
    int rounds, heldErrors, newErrors, backends;

    Loop(ProxyJdbc client, Path ctrl) {
        this.client = client;
        this.ctrl = ctrl;
    }

    void heldRound() {
        try {
            if (held == null) {
                held = client.connect();
            }
            try (Statement st = held.createStatement();
                    ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                int now = rs.getInt(1);
                if (now != pid) {
                    pid = now;
                    backends++;
                }
            }
        } catch (SQLException e) {
            heldErrors++;
            System.out.println("error held: " + ProxyJdbc.oneLine(e));
            closeHeld();
        }
    }

    void closeHeld() {
        try {
            if (held != null) {
                held.close();
            }
        } catch (SQLException e) {
            // the session is gone already
        }
        held = null;
    }

    void newRound() {
        try {
            client.once();
        } catch (SQLException e) {
            newErrors++;
            System.out.println("error new: " + ProxyJdbc.oneLine(e));
        }
    }

    void pauseIfAsked() throws Exception {
        Path pause = ctrl.resolve("pause");
        if (!Files.exists(pause)) {
            return;
        }
        Path paused = ctrl.resolve("paused");
        Files.write(paused, new byte[0]);
        while (Files.exists(pause)) {
            Thread.sleep(20);
        }
        Files.deleteIfExists(paused);
    }

    void run() throws Exception {
        held = client.connect();
        System.out.println(ProxyJdbc.whoami(held));
        while (!Files.exists(ctrl.resolve("stop"))) {
            pauseIfAsked();
            rounds++;
            heldRound();
            newRound();
            Thread.sleep(ProxyJdbc.ROUND_PAUSE_MS);
        }
        closeHeld();
        System.out.println("done rounds=" + rounds + " held_errors=" + heldErrors
                + " new_errors=" + newErrors + " held_backends=" + backends);
    }
}
