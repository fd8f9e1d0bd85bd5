package store_test

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gatehouse/internal/store/storetest"
)

// column is what both databases say alike of a column: the kind of value it
// holds and whether it may be NULL.
type column struct {
	kind     string
	nullable bool
}

// schema is every table's columns, by table name and column name.
type schema map[string]map[string]column

// TestMigrationsMakeTheSameSchema migrates a fresh SQLite and a fresh
// PostgreSQL store and compares their tables and columns: one SQL text
// serves both only while they agree.
func TestMigrationsMakeTheSameSchema(t *testing.T) {
	lite := sqliteSchema(t, storetest.SQLite(t).DB())
	pg := postgresSchema(t, storetest.Postgres(t).DB())
	if len(lite) < 10 {
		t.Fatalf("only %d tables read from SQLite; the query is broken", len(lite))
	}
	for _, d := range schemaDifferences(lite, pg) {
		t.Error(d)
	}
}

// sqliteSchema reads the tables from sqlite_master and their columns from
// pragma table_info. SQLite lets a PRIMARY KEY column other than an
// INTEGER one hold NULL unless it says NOT NULL; the store never writes
// one, and PostgreSQL refuses it, so a key column counts as NOT NULL.
func sqliteSchema(t *testing.T, db *sql.DB) schema {
	t.Helper()
	var tables []string
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	out := schema{}
	for _, table := range tables {
		out[table] = map[string]column{}
		cols, err := db.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		for cols.Next() {
			var name, declared string
			var notNull, pk int
			if err := cols.Scan(&name, &declared, &notNull, &pk); err != nil {
				t.Fatal(err)
			}
			out[table][name] = column{kind: kindOf(declared), nullable: notNull == 0 && pk == 0}
		}
		if err := cols.Err(); err != nil {
			t.Fatal(err)
		}
		cols.Close()
	}
	return out
}

// postgresSchema reads the columns of the store's schema (the first on its
// search_path) from information_schema.
func postgresSchema(t *testing.T, db *sql.DB) schema {
	t.Helper()
	rows, err := db.Query(`SELECT c.table_name, c.column_name, c.data_type, c.is_nullable
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := schema{}
	for rows.Next() {
		var table, name, declared, nullable string
		if err := rows.Scan(&table, &name, &declared, &nullable); err != nil {
			t.Fatal(err)
		}
		if out[table] == nil {
			out[table] = map[string]column{}
		}
		out[table][name] = column{kind: kindOf(declared), nullable: nullable == "YES"}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// kindOf maps a declared column type of either database to the kind of
// value it holds: integer, real, text, blob, bool, or the type itself, in
// lower case, when it is none of these.
func kindOf(declared string) string {
	t := strings.ToLower(strings.TrimSpace(declared))
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "integer", "int", "bigint", "smallint", "int2", "int4", "int8":
		return "integer"
	case "real", "double precision", "float4", "float8", "numeric":
		return "real"
	case "text", "character varying", "varchar", "character", "char":
		return "text"
	case "blob", "bytea":
		return "blob"
	case "boolean", "bool":
		return "bool"
	}
	return t
}

// schemaDifferences lists, in a stable order, every table or column one
// schema has and the other lacks, and every column whose kind or
// nullability differs.
func schemaDifferences(lite, pg schema) []string {
	var out []string
	for _, table := range keysOf(lite, pg) {
		l, inLite := lite[table]
		p, inPG := pg[table]
		switch {
		case !inPG:
			out = append(out, fmt.Sprintf("table %s: in SQLite, not in PostgreSQL", table))
			continue
		case !inLite:
			out = append(out, fmt.Sprintf("table %s: in PostgreSQL, not in SQLite", table))
			continue
		}
		for _, name := range keysOf(l, p) {
			lc, inLite := l[name]
			pc, inPG := p[name]
			switch {
			case !inPG:
				out = append(out, fmt.Sprintf("column %s.%s: in SQLite, not in PostgreSQL", table, name))
			case !inLite:
				out = append(out, fmt.Sprintf("column %s.%s: in PostgreSQL, not in SQLite", table, name))
			case lc != pc:
				out = append(out, fmt.Sprintf("column %s.%s: SQLite %s, PostgreSQL %s", table, name, lc, pc))
			}
		}
	}
	return out
}

// keysOf returns the keys of both maps, sorted, once each.
func keysOf[V any](a, b map[string]V) []string {
	var names []string
	for k := range a {
		names = append(names, k)
	}
	for k := range b {
		names = append(names, k)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func (c column) String() string {
	if c.nullable {
		return c.kind + " NULL"
	}
	return c.kind + " NOT NULL"
}

// TestSchemaDifferencesNamesEveryKind: the comparison reports a missing
// table, a missing column on either side, and a column that differs in
// kind or nullability, and nothing when the schemas agree.
func TestSchemaDifferencesNamesEveryKind(t *testing.T) {
	lite := schema{
		"users":   {"id": {"text", false}, "email": {"text", false}, "totp_secret": {"blob", true}, "legacy": {"text", true}},
		"old_one": {"id": {"text", false}},
	}
	pg := schema{
		"users": {"id": {"text", false}, "email": {"text", true}, "totp_secret": {"blob", true}, "plan": {"text", false}},
	}
	want := []string{
		"table old_one: in SQLite, not in PostgreSQL",
		"column users.email: SQLite text NOT NULL, PostgreSQL text NULL",
		"column users.legacy: in SQLite, not in PostgreSQL",
		"column users.plan: in PostgreSQL, not in SQLite",
	}
	if got := schemaDifferences(lite, pg); !slices.Equal(got, want) {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := schemaDifferences(pg, pg); got != nil {
		t.Errorf("a schema differs from itself: %v", got)
	}
	for declared, want := range map[string]string{"BIGINT": "integer", "bytea": "blob", "character varying(64)": "text", "BOOLEAN": "bool", "jsonb": "jsonb"} {
		if got := kindOf(declared); got != want {
			t.Errorf("kindOf(%q) = %q, want %q", declared, got, want)
		}
	}
}
