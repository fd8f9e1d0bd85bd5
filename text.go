package gatehouse

import "strings"

// IsUTF8Charset reports whether a Content-Type's charset parameter (empty
// when the header has none) lets its body be read as UTF-8: none, or
// "utf-8" in any case ("utf8" too, as browsers label it). Gatehouse reads
// every body as UTF-8, so a body declared in another charset is refused
// with 415 rather than misread (A-utf8).
func IsUTF8Charset(charset string) bool {
	return charset == "" || strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8")
}
