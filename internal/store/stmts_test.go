package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestStatementCacheIsBounded: statements whose text is built from the
// input's size are not kept past maxCachedStmts, and every query still
// answers, cached or not, in and out of transactions.
func TestStatementCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "stmts.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got int
	long := "SELECT 7" + fmt.Sprintf("%*s", maxCachedStmtLen, "")
	if err := s.read.QueryRowContext(ctx, long).Scan(&got); err != nil || got != 7 {
		t.Fatalf("a long statement: %d, %v", got, err)
	}
	if _, ok := s.stmts.stmts[long]; ok {
		t.Fatal("a statement over the length bound was kept")
	}
	for i := range maxCachedStmts + 100 {
		query := fmt.Sprintf("SELECT $1 + %d", i)
		if err := s.read.QueryRowContext(ctx, query, 1).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("query %d outside a transaction: %d, %v", i, got, err)
		}
		err := s.inTx(ctx, func(q querier) error { return q.QueryRowContext(ctx, query, 2).Scan(&got) })
		if err != nil || got != i+2 {
			t.Fatalf("query %d in a transaction: %d, %v", i, got, err)
		}
	}
	if n := len(s.stmts.stmts); n != maxCachedStmts {
		t.Fatalf("%d statements kept, want the first %d", n, maxCachedStmts)
	}
}
