package password

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestHashAndVerify(t *testing.T) {
	h := NewHasher(2)
	ctx := context.Background()
	hash, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id with m=19 MiB, t=2, p=1", hash)
	}
	if err := h.Verify(ctx, hash, "correct horse battery"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	again, _ := h.Hash(ctx, "correct horse battery")
	if again == hash {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, wrong := range []string{"", "correct horse batter", "Correct horse battery", "correct horse battery "} {
		if err := h.Verify(ctx, hash, wrong); !errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want ErrMismatch", wrong, err)
		}
	}
	if err := h.Verify(ctx, "", "anything"); !errors.Is(err, ErrMismatch) {
		t.Errorf("a user without a password was let in: %v", err)
	}
	for _, bad := range []string{"plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=19456,t=2,p=1$!!$AA"} {
		if err := h.Verify(ctx, bad, "x"); err == nil {
			t.Errorf("malformed hash %q verified", bad)
		}
	}
}

func TestVerifyRespectsCancellation(t *testing.T) {
	h := NewHasher(1)
	h.slots <- struct{}{} // every slot busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Verify(ctx, "", "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with all slots busy and a cancelled request = %v", err)
	}
}

func TestCheckPolicy(t *testing.T) {
	cases := map[string]bool{
		"short":                    false,
		"twelve chars":             true,
		strings.Repeat("x", 256):   true,
		strings.Repeat("x", 257):   false,
		"\xff\xfe invalid utf8 xx": false,
		"ééééééééééé":              false, // 11 characters, 22 bytes
		"éééééééééééé":             true,
	}
	for pw, ok := range cases {
		if err := CheckPolicy(pw); (err == nil) != ok {
			t.Errorf("CheckPolicy(%q) = %v, want ok=%v", pw, err, ok)
		}
	}
}

// BenchmarkVerify is the cost argon2id adds to every password sign-in:
//
//	go test -run '^$' -bench Verify ./internal/password/
func BenchmarkVerify(b *testing.B) {
	h := NewHasher(1)
	hash, _ := h.Hash(context.Background(), "correct horse battery")
	for b.Loop() {
		h.Verify(context.Background(), hash, "correct horse battery")
	}
}
