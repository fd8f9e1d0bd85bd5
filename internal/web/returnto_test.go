package web

import "testing"

func TestLocalPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/", "/"},
		{"/account/security", "/account/security"},
		{"/account/security?tab=totp#codes", "/account/security?tab=totp#codes"},
		{"/a/b%2Fc", "/a/b%2Fc"},
		{"", "/"},
		{"//evil.example", "/"},
		{"//evil.example/path", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"%2F%2Fevil.example", "/"},
		{"https://evil.example", "/"},
		{"https://app.example.com.evil", "/"},
		{"http:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"JaVaScRiPt:alert(1)", "/"},
		{"data:text/html,<script>", "/"},
		{"evil.example", "/"},
		{"relative/path", "/"},
		{"/\x00", "/"},
		{"/" + string(make([]byte, 3000)), "/"},
	}
	for _, tt := range tests {
		if got := LocalPath(tt.in); got != tt.want {
			t.Errorf("LocalPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzLocalPath checks that whatever return_to holds, the result is a path
// on this site.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "//evil", "/\\evil", "%2F%2Fevil", "/a?b=c", "https://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := LocalPath(in)
		if got != "/" && got != in {
			t.Fatalf("LocalPath(%q) = %q: neither the input nor the default", in, got)
		}
		if len(got) > 1 && (got[0] != '/' || got[1] == '/' || got[1] == '\\') {
			t.Fatalf("LocalPath(%q) = %q is not a local path", in, got)
		}
	})
}
