package gatehouse_test

import (
	"testing"

	"gatehouse"
)

// TestIsUTF8Charset: only no charset or UTF-8 reads as UTF-8 (A-utf8).
func TestIsUTF8Charset(t *testing.T) {
	for charset, want := range map[string]bool{
		"": true, "utf-8": true, "UTF-8": true, "utf8": true,
		"utf-16": false, "UTF-16LE": false, "iso-8859-1": false, "us-ascii": false, "windows-1252": false, "utf-8 ": false,
	} {
		if got := gatehouse.IsUTF8Charset(charset); got != want {
			t.Errorf("IsUTF8Charset(%q) = %v, want %v", charset, got, want)
		}
	}
}
