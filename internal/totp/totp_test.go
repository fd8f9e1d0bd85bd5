package totp

import (
	"encoding/base64"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rfcSecret is RFC 6238's SHA-1 test seed "12345678901234567890" in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestCodeMatchesRFC6238(t *testing.T) {
	// Appendix B of RFC 6238, truncated to six digits.
	tests := []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
	}
	for _, tt := range tests {
		got, err := Code(rfcSecret, Step(time.Unix(tt.unix, 0)))
		if err != nil || got != tt.want {
			t.Errorf("Code at %d = %q, %v; want %q", tt.unix, got, err, tt.want)
		}
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	at := func(d time.Duration) string {
		c, err := Code(rfcSecret, Step(now.Add(d)))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	current := Step(now)
	tests := []struct {
		name     string
		input    string
		wantOK   bool
		wantStep int64
	}{
		{"current step", at(0), true, current},
		{"one step behind", at(-Period), true, current - 1},
		{"one step ahead", at(Period), true, current + 1},
		{"two steps behind", at(-2 * Period), false, 0},
		{"two steps ahead", at(2 * Period), false, 0},
		{"spaces and dash", at(0)[:3] + " - " + at(0)[3:], true, current},
		{"empty", "", false, 0},
		{"five digits", at(0)[:5], false, 0},
		{"letters", "abcdef", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := Verify(rfcSecret, tt.input, now)
			if ok != tt.wantOK || step != tt.wantStep {
				t.Errorf("Verify(%q) = %d, %v; want %d, %v", tt.input, step, ok, tt.wantStep, tt.wantOK)
			}
		})
	}
	if _, ok := Verify("not base32!", "123456", now); ok {
		t.Error("Verify accepted a code for a broken secret")
	}
}

func TestParseCode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"123456", "123456", true},
		{" 123 456 ", "123456", true},
		{"123-456", "123456", true},
		{"12345", "", false},
		{"1234567", "", false},
		{"12345a", "", false},
		{"１２３４５６", "", false}, // full-width digits are not digits here
		{"", "", false},
		{strings.Repeat(" ", 40) + "123456", "", false},
	}
	for _, tt := range tests {
		got, err := ParseCode(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseCode(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestNewKey(t *testing.T) {
	k, err := NewKey("Gatehouse", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Secret) != 32 {
		t.Errorf("secret %d characters, want 32 (160 bits)", len(k.Secret))
	}
	u, err := url.Parse(k.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || q.Get("secret") != k.Secret || q.Get("issuer") != "Gatehouse" ||
		q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Errorf("URL = %s", k.URL)
	}
	again, err := KeyFor("Gatehouse", "alice@example.com", k.Secret)
	if err != nil || again != k {
		t.Errorf("KeyFor = %+v, %v; want %+v", again, err, k)
	}
	if _, err := KeyFor("Gatehouse", "alice@example.com", "!!"); err == nil {
		t.Error("KeyFor accepted a secret that is not base32")
	}
	if g := k.GroupedSecret(); len(g) != 32+7 || strings.ReplaceAll(g, " ", "") != k.Secret {
		t.Errorf("GroupedSecret = %q", g)
	}

	qr, err := k.QRCodeDataURL()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(qr, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != qrSize || b.Dy() != qrSize {
		t.Errorf("QR code is %v", b)
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes := NewRecoveryCodes()
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 19 || strings.Count(c, "-") != 3 {
			t.Errorf("code %q is not shaped xxxx-xxxx-xxxx-xxxx", c)
		}
		if seen[c] {
			t.Errorf("code %q handed out twice", c)
		}
		seen[c] = true
		for _, typed := range []string{c, strings.ToUpper(c), strings.ReplaceAll(c, "-", " "), strings.ReplaceAll(c, "-", "")} {
			h, err := HashRecoveryCode(typed)
			if err != nil || h != hashes[i] {
				t.Errorf("HashRecoveryCode(%q) = %q, %v; want %q", typed, h, err, hashes[i])
			}
		}
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"abcd-efgh-jkmn-pqrs", "abcdefghjkmnpqrs", true},
		{"ABCD EFGH JKMN PQRS", "abcdefghjkmnpqrs", true},
		{" abcdefghjkmnpqrs ", "abcdefghjkmnpqrs", true},
		{"O0Il-abcd-efgh-jkmn", "0011abcdefghjkmn", true}, // read-alike letters
		{"abcd-efgh-jkmn-pqr", "", false},
		{"abcd-efgh-jkmn-pqrst", "", false},
		{"abcd-efgh-jkmn-pqru", "", false}, // u is not in the alphabet
		{"abcd-efgh-jkmn-pqr!", "", false},
		{"abcd-efgh-jkmn-pqrß", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeRecoveryCode(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseCode checks that the parsers of what a person types never panic
// and only accept what they document.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "123-456", "abcd-efgh-jkmn-pqrs", "", "\x00", "１２３４５６"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if code, err := ParseCode(in); err == nil {
			if len(code) != Digits || strings.Trim(code, "0123456789") != "" {
				t.Errorf("ParseCode(%q) = %q", in, code)
			}
		}
		if norm, err := NormalizeRecoveryCode(in); err == nil {
			if len(norm) != recoveryLen || strings.Trim(norm, recoveryAlphabet) != "" {
				t.Errorf("NormalizeRecoveryCode(%q) = %q", in, norm)
			}
		}
		Verify(rfcSecret, in, time.Unix(1_700_000_000, 0))
	})
}
