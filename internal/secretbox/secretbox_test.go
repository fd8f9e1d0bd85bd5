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

const (
	oldSecret = "the old secret key, long enough for the box"
	newSecret = "the new secret key, long enough for the box"
)

// legacySeal is a value as sealed before the key ring: nonce || ciphertext
// under the same derived key, with no key ID.
func legacySeal(t *testing.T, secretKey, purpose string, plaintext []byte) []byte {
	t.Helper()
	k, err := newKey(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, k.aead.NonceSize())
	return k.aead.Seal(nonce, nonce, plaintext, []byte(purpose))
}

func TestRingOpensWhatEitherKeySealedAndSealsWithTheFirst(t *testing.T) {
	old, _ := New(oldSecret)
	ring, err := NewRing(newSecret, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	underOld := old.Seal("totp", []byte("seed"))
	if got, err := ring.Open("totp", underOld); err != nil || string(got) != "seed" {
		t.Fatalf("the ring did not open a value sealed with its previous key: %q, %v", got, err)
	}
	underNew := ring.Seal("totp", []byte("seed"))
	if _, err := old.Open("totp", underNew); !errors.Is(err, ErrOpen) {
		t.Fatalf("the ring sealed with its previous key, not its first: %v", err)
	}
	newOnly, _ := New(newSecret)
	if got, err := newOnly.Open("totp", underNew); err != nil || string(got) != "seed" {
		t.Fatalf("the new key alone did not open what the ring sealed: %q, %v", got, err)
	}
	if ring.KeyID() != newOnly.KeyID() || ring.KeyIDs()[1] != old.KeyID() || ring.KeyID() == old.KeyID() {
		t.Fatalf("key IDs: ring %v, new %s, old %s", ring.KeyIDs(), newOnly.KeyID(), old.KeyID())
	}
	if !bytes.Equal(underNew[1:header], newOnly.keys[0].id[:]) || underNew[0] != version {
		t.Fatal("a sealed value does not record the ID of the key that sealed it")
	}
}

func TestResealMovesValuesToTheFirstKey(t *testing.T) {
	ring, _ := NewRing(newSecret, oldSecret)
	old, _ := New(oldSecret)
	newOnly, _ := New(newSecret)
	cases := map[string]struct {
		sealed      []byte
		wantChanged bool
	}{
		"sealed by the previous key":   {old.Seal("p", []byte("v")), true},
		"sealed before the ring":       {legacySeal(t, oldSecret, "p", []byte("v")), true},
		"sealed by the first key":      {newOnly.Seal("p", []byte("v")), false},
		"new key, sealed before rings": {legacySeal(t, newSecret, "p", []byte("v")), true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out, changed, err := ring.Reseal("p", c.sealed)
			if err != nil || changed != c.wantChanged {
				t.Fatalf("Reseal: changed %v, %v; want changed %v", changed, err, c.wantChanged)
			}
			if got, err := newOnly.Open("p", out); err != nil || string(got) != "v" {
				t.Fatalf("after Reseal the new key alone does not open it: %q, %v", got, err)
			}
			if !changed && !bytes.Equal(out, c.sealed) {
				t.Fatal("a value already under the first key was rewritten")
			}
		})
	}
	stranger, _ := New("a key that is in nobody's ring at all")
	if _, _, err := ring.Reseal("p", stranger.Seal("p", []byte("v"))); !errors.Is(err, ErrOpen) {
		t.Fatalf("Reseal of a value no key opens: %v", err)
	}
	if _, _, err := ring.Reseal("q", old.Seal("p", []byte("v"))); !errors.Is(err, ErrOpen) {
		t.Fatalf("Reseal for another purpose: %v", err)
	}
}

func TestLegacyValuesStillOpen(t *testing.T) {
	b, _ := New(oldSecret)
	if got, err := b.Open("totp", legacySeal(t, oldSecret, "totp", []byte("seed"))); err != nil || string(got) != "seed" {
		t.Fatalf("a value sealed before the key ring does not open: %q, %v", got, err)
	}
}

func TestRingRefusesBadKeys(t *testing.T) {
	if _, err := NewRing(newSecret, "short"); err == nil {
		t.Fatal("a short previous key was accepted")
	}
	if _, err := NewRing(newSecret, newSecret); err == nil {
		t.Fatal("the same key twice was accepted")
	}
}
