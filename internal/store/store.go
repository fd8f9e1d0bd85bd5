// Package store keeps Gatehouse's state in one SQL database: SQLite (the
// embedded default) or PostgreSQL. Both run the same SQL text; only the
// migrations differ where the dialects do. Every method either does all of
// its work or none of it.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gatehouse"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL database behind a Store.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is Gatehouse's state. It is safe for concurrent use, and several
// processes may share one PostgreSQL database (or one SQLite file on a host).
type Store struct {
	db      *sql.DB
	dialect Dialect
	// read is how methods query outside transactions: db itself, or on
	// SQLite through stmts.
	read  querier
	stmts *stmtCache
	// writeDB is where write transactions run, and write is how single
	// writes run: db and read, or on SQLite a pool of their own (see
	// openSQLiteWriter) through writeStmts.
	writeDB    *sql.DB
	write      querier
	writeStmts *stmtCache
	// ssoConfigs serves CurrentSSOConfig.
	ssoConfigs ssoConfigCache
	// observer times queries (ObserveQueries).
	observer observerSlot
	// signIns paces the recording of configurations' latest sign-ins.
	signIns signInMarks
	// writer holds the turn of this process's one SQLite writer; see
	// writing.
	writer chan struct{}
	// group commits concurrent Apply calls together.
	group commitGroup
	// checkpoints copies SQLite's log into its file off the writers' path.
	checkpoints *checkpointer
	// Now is the clock used for created/updated times; tests replace it.
	Now func() time.Time
}

// DB returns the underlying database handle (for tests and tools).
func (s *Store) DB() *sql.DB { return s.db }

// WritePool returns the SQLite writes' own pool (openSQLiteWriter), or nil
// where writes share DB's (PostgreSQL).
func (s *Store) WritePool() *sql.DB {
	if s.writeDB == s.db {
		return nil
	}
	return s.writeDB
}

// Dialect reports which database this store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database.
func (s *Store) Close() error {
	s.stopCheckpoints()
	if s.stmts != nil {
		s.stmts.close()
	}
	var werr error
	if s.writeDB != s.db {
		s.writeStmts.close()
		werr = s.writeDB.Close()
	}
	return errors.Join(s.db.Close(), werr)
}

// sqliteParams is fixed: WAL for concurrent readers, a busy timeout instead of
// "database is locked" errors, write transactions that take the lock up front,
// and enforced foreign keys.
//
// synchronous(NORMAL) is SQLite's advice for WAL: a commit is written to
// the log without waiting for the disk, which syncs at each checkpoint. A
// process that crashes or is killed loses nothing committed; only a power
// loss or an operating-system crash may lose the last commits before the
// latest checkpoint (the database itself stays intact). Syncing every
// commit (FULL) cost 2.9 ms per commit on this project's test machine, and
// the SQLite writer takes turns, so it would cap sign-ins near 170 a second
// whatever the CPU. Deployments that need every commit on disk before the
// answer use PostgreSQL (README: Production, Speed).
const sqliteParams = "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate&_pragma=wal_autocheckpoint(" + sqliteAutoCheckpointPagesText + ")"

// Pool sizes the connection pool. Zero fields take the defaults below.
//
// Decisions, from the sign-in load (README, Speed): every connection the
// pool opens stays open while it is used (idle connections = MaxConns), so
// a burst never pays for new connections, which on PostgreSQL cost a
// process fork and an authentication each; MaxIdleTime gives them back
// after a quiet spell, and MaxLifetime recycles them so a PostgreSQL
// failover or a pgbouncer restart is followed within that time.
type Pool struct {
	// MaxConns bounds open connections: DefaultPostgresConns, or
	// DefaultSQLiteConns (SQLite readers run in parallel under WAL; its
	// writers take turns whatever the number).
	MaxConns int
	// MaxIdleTime closes a connection unused this long (default 5 minutes).
	MaxIdleTime time.Duration
	// MaxLifetime closes a connection this old once it is idle (default 30
	// minutes; negative: never).
	MaxLifetime time.Duration
}

// Pool defaults. Two Gatehouse processes at DefaultPostgresConns each stay
// far below PostgreSQL's default max_connections of 100.
const (
	DefaultPostgresConns = 16
	DefaultSQLiteConns   = 8
	defaultMaxIdleTime   = 5 * time.Minute
	defaultMaxLifetime   = 30 * time.Minute
)

// apply sets p on db, with the defaults for dialect where p leaves a field zero.
func (p Pool) apply(db *sql.DB, dialect Dialect) {
	if p.MaxConns <= 0 {
		p.MaxConns = DefaultSQLiteConns
		if dialect == Postgres {
			p.MaxConns = DefaultPostgresConns
		}
	}
	if p.MaxIdleTime <= 0 {
		p.MaxIdleTime = defaultMaxIdleTime
	}
	switch {
	case p.MaxLifetime == 0:
		p.MaxLifetime = defaultMaxLifetime
	case p.MaxLifetime < 0:
		p.MaxLifetime = 0
	}
	db.SetMaxOpenConns(p.MaxConns)
	db.SetMaxIdleConns(p.MaxConns)
	db.SetConnMaxIdleTime(p.MaxIdleTime)
	db.SetConnMaxLifetime(p.MaxLifetime)
}

// Open connects to the database named by rawURL with the default Pool.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	return OpenPool(ctx, rawURL, Pool{})
}

// OpenPool connects to the database named by rawURL: "sqlite:PATH" (or a
// bare path) or "postgres://…"/"postgresql://…", with pool. It does not
// migrate; call Migrate.
func OpenPool(ctx context.Context, rawURL string, pool Pool) (*Store, error) {
	var (
		db      *sql.DB
		dialect Dialect
		dsn     string
		err     error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		dialect = Postgres
		db, err = sql.Open("pgx", rawURL)
	default:
		dialect = SQLite
		path := strings.TrimPrefix(rawURL, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, errors.New("store: sqlite URL has no file path")
		}
		if i := strings.IndexByte(path, '?'); i >= 0 {
			return nil, errors.New("store: sqlite URL must not carry parameters; Gatehouse sets them")
		}
		if pool.MaxConns == 1 {
			// The statement cache prepares a statement new to it on a
			// free connection: a read made while another read's rows are
			// open would wait for itself. (The writes have connections of
			// their own: openSQLiteWriter.)
			return nil, errors.New("store: SQLite needs 2 database connections or more (--db-max-conns): a read prepares a statement it has not used yet on a free connection")
		}
		abs, aerr := filepath.Abs(path)
		if aerr != nil {
			return nil, fmt.Errorf("store: sqlite path: %w", aerr)
		}
		dsn = "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + sqliteParams
		db, err = sql.Open("sqlite", dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	pool.apply(db, dialect)
	s := &Store{db: db, dialect: dialect, Now: time.Now, read: db, writeDB: db}
	// On SQLite the group's turn is the writer's; on PostgreSQL, where
	// writers need no turns, it is the group's alone.
	s.group.turn = make(chan struct{}, 1)
	if dialect == SQLite {
		s.writer = s.group.turn
		s.stmts = &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
		s.read = cachedDB{s.stmts}
		if s.writeDB, err = openSQLiteWriter(dsn, pool); err != nil {
			db.Close()
			return nil, err
		}
		s.writeStmts = &stmtCache{db: s.writeDB, stmts: map[string]*sql.Stmt{}}
		s.write = timed{cachedDB{s.writeStmts}, s}
	}
	s.read = timed{s.read, s}
	if s.write == nil {
		s.write = s.read
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ping(pctx, db); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: connect: %w: %v", gatehouse.ErrUnavailable, err)
	}
	if dialect == SQLite {
		s.startCheckpoints()
	}
	return s, nil
}

// openSQLiteWriter opens the pool this process's SQLite writes run on,
// apart from its readers (--db-max-conns sizes the readers). SQLite throws
// a connection's page cache away whenever another connection has
// committed: the writes, which take turns (writing), run on the connection
// that made the last commit, whose cache is still good, instead of on
// whichever reader was free, and slow reads holding every reader's
// connection (an export, a report) cannot keep sign-ins from writing. The
// pool has two connections because the statement cache prepares a
// statement new to it on a free connection while the turn's transaction
// holds the other; the pool hands out the connection returned last, so
// the writes stay on one.
func openSQLiteWriter(dsn string, pool Pool) (*sql.DB, error) {
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	pool.MaxConns = 2
	pool.apply(w, SQLite)
	return w, nil
}

// ping opens the first connection. When several processes open a new SQLite
// file at once, the one switching it to WAL holds a lock that the others'
// journal_mode pragma meets with SQLITE_BUSY at once, without waiting out the
// busy timeout; that answer is retried until ctx ends. Any other error is
// returned as it is.
func ping(ctx context.Context, db *sql.DB) error {
	wait := 5 * time.Millisecond
	for {
		err := db.PingContext(ctx)
		if err == nil || !isSQLiteBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// isSQLiteBusy reports whether err is SQLite's SQLITE_BUSY or one of its
// extended codes.
func isSQLiteBusy(err error) bool {
	var liteErr *sqlite.Error
	return errors.As(err, &liteErr) && liteErr.Code()&0xff == sqlite3.SQLITE_BUSY
}

//go:embed migrations
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	dir := "migrations/" + string(s.dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_what.sql", name)
		}
		b, err := fs.ReadFile(migrationFS, dir+"/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// advisoryLockKey is Gatehouse's PostgreSQL advisory lock for migrations.
const advisoryLockKey = 7_242_018_350

// Migrate applies every embedded migration not yet applied, each in its own
// transaction. Several processes may call it at once: on PostgreSQL they queue
// on an advisory lock, on SQLite on the write lock; each migration runs once.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	ms, err := s.migrations()
	if err != nil {
		return nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, s.fail("migrate", err)
	}
	defer conn.Close()
	if s.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", advisoryLockKey); err != nil {
			return nil, s.fail("migrate: lock", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", advisoryLockKey)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, s.fail("migrate: schema_migrations", err)
	}
	for _, m := range ms {
		done, err := func() (bool, error) {
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return false, err
			}
			defer tx.Rollback()
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = $1", m.version).Scan(&n); err != nil {
				return false, err
			}
			if n > 0 {
				return false, nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return false, fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)",
				m.version, m.name, s.Now().UnixMicro()); err != nil {
				return false, err
			}
			return true, tx.Commit()
		}()
		if err != nil {
			return applied, s.fail("migrate", err)
		}
		if done {
			applied = append(applied, m.name)
		}
	}
	return applied, nil
}

// Ready reports nil when the database answers and every embedded migration
// has been applied.
func (s *Store) Ready(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	var latest sql.NullInt64
	if err := s.read.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&latest); err != nil {
		return s.fail("ready", err)
	}
	if want := ms[len(ms)-1].version; !latest.Valid || int(latest.Int64) < want {
		return fmt.Errorf("store: migrations not current: at %d, want %d", latest.Int64, want)
	}
	return nil
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// writing waits for this process's turn to write and returns the function
// that ends it. SQLite admits one writer at a time, and a writer that finds
// the lock taken sleeps in its busy handler (1 ms, then 2, 5, 10... up to
// 100 ms) while holding its pooled connection, so under load writers
// mostly slept and readers queued for connections. Taking turns in the
// process first hands the lock straight to the next writer; the busy
// timeout is left for other processes on the same file. PostgreSQL has row
// locks and needs no turns.
// A request whose context ends while it waits gives up with ctx's error.
func (s *Store) writing(ctx context.Context) (done func(), err error) {
	if s.writer == nil {
		return func() {}, nil
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// exec runs one write statement outside a transaction.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	done, err := s.writing(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	return s.write.ExecContext(ctx, query, args...)
}

// inTx runs fn in one transaction, committed only when fn returns nil. It
// is for writes: on SQLite it waits for the process's turn (see writing),
// so fn must not write through s.exec or start another inTx.
func (s *Store) inTx(ctx context.Context, fn func(q querier) error) error {
	done, err := s.writing(ctx)
	if err != nil {
		return s.fail("begin", err)
	}
	defer done()
	return s.txInTurn(ctx, fn)
}

// txInTurn is inTx once the turn is held.
func (s *Store) txInTurn(ctx context.Context, fn func(q querier) error) error {
	defer s.timeTx()()
	tx, err := s.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("begin", err)
	}
	defer tx.Rollback()
	var q querier = tx
	if s.writeStmts != nil {
		q = cachedTx{tx, s.writeStmts}
	}
	if err := fn(q); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.fail("commit", err)
	}
	return nil
}

// fail turns a database error into a domain error: unique violations become
// *gatehouse.ConflictError, a missing row gatehouse.ErrNotFound, and anything
// else gatehouse.ErrUnavailable, so callers fail closed with a 503.
func (s *Store) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", op, gatehouse.ErrNotFound)
	}
	if errors.Is(err, gatehouse.ErrNotFound) || errors.Is(err, gatehouse.ErrConflict) || errors.Is(err, gatehouse.ErrInvalid) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return &gatehouse.ConflictError{Field: uniqueField(pgErr.ConstraintName + " " + pgErr.Detail), Message: "already exists"}
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) && (liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return &gatehouse.ConflictError{Field: uniqueField(liteErr.Error()), Message: "already exists"}
	}
	return fmt.Errorf("store: %s: %w: %v", op, gatehouse.ErrUnavailable, err)
}

// uniqueField names the field a unique violation is about, from the
// database's message.
func uniqueField(msg string) string {
	for _, f := range []string{"email", "name", "secret_hash", "code_hash"} {
		if strings.Contains(msg, f) {
			return f
		}
	}
	return "id"
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// newID returns prefix_ followed by a 48-bit millisecond time and 80 random
// bits, so IDs sort in creation order and listings page stably.
func newID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// DefaultPageLimit and MaxPageLimit bound listings.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

func limitOf(p gatehouse.Page) int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}

// expectOne returns ErrNotFound when an UPDATE or DELETE touched no row.
func (s *Store) expectOne(op string, res sql.Result, err error) error {
	return s.expectOneOr(op, res, err, gatehouse.ErrNotFound)
}

// now is the store's clock cut to the microsecond, the precision it keeps,
// so a record returned by a create equals the same record read back.
func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }
