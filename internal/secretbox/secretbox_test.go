package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	b, err := New("0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal("totp", []byte("JBSWY3DPEHPK3PXP"))
	if bytes.Contains(sealed, []byte("JBSWY3DPEHPK3PXP")) {
		t.Fatal("the sealed value contains the plaintext")
	}
	got, err := b.Open("totp", sealed)
	if err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if again := b.Seal("totp", []byte("JBSWY3DPEHPK3PXP")); bytes.Equal(again, sealed) {
		t.Fatal("sealing twice gave the same bytes: nonces repeat")
	}
	if _, err := b.Open("client-secret", sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("a value sealed for one purpose opened for another: %v", err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := b.Open("totp", tampered); !errors.Is(err, ErrOpen) {
		t.Fatalf("a tampered value opened: %v", err)
	}
	other, _ := New("another key that is long enough, really")
	if _, err := other.Open("totp", sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("another key opened the value: %v", err)
	}
	for _, short := range [][]byte{nil, {1, 2, 3}} {
		if _, err := b.Open("totp", short); !errors.Is(err, ErrOpen) {
			t.Fatalf("Open(%v) = %v", short, err)
		}
	}
}

func TestNewRefusesShortKeys(t *testing.T) {
	if _, err := New("too short"); err == nil {
		t.Fatal("a 9-character key was accepted")
	}
}
