package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// invalidText finds the first string of the JSON document body, key or
// value, that is not exact Unicode text: bytes that are not UTF-8, or a \u
// escape of an unpaired surrogate. encoding/json would silently decode
// either as U+FFFD, so an email "al\xffice@…" would be stored as
// "al\uFFFDice@…" (A-utf8). It returns the string's JSON path ("email",
// "members[2]", "oidc.scopes[0]"; a key's path is that of its member, ""
// for the document itself), and found is false when every string is text
// or the document is malformed before one that is not: the decoder reports
// malformed JSON itself.
func invalidText(body []byte) (path string, found bool) {
	segs, found := invalidTextAt(body)
	return jsonPath(segs), found
}

// invalidTextAt is invalidText with the path as its segments: a string
// for an object member, an int for an array element.
func invalidTextAt(body []byte) ([]any, bool) {
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\u`)) {
		return nil, false // nothing that could decode as U+FFFD by mistake
	}
	// encoding/json walks the structure; each string token's literal is
	// the raw input between the previous token and this one, after any
	// separators, which are ASCII.
	dec := json.NewDecoder(bytes.NewReader(body))
	var (
		stack []position
		prev  int64
	)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		end := dec.InputOffset()
		raw := body[prev:end]
		prev = end
		top := len(stack) - 1
		if s, ok := tok.(string); ok && top >= 0 && stack[top].wantKey {
			stack[top].key, stack[top].wantKey = s, false
			if !isTextLiteral(raw[bytes.IndexByte(raw, '"'):]) {
				return segments(stack), true
			}
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, position{object: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, position{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
			top--
		default:
			if _, ok := tok.(string); ok && !isTextLiteral(raw[bytes.IndexByte(raw, '"'):]) {
				return segments(stack), true
			}
		}
		// A value ended: the container moves on to its next member.
		if top >= 0 {
			stack[top].next()
		}
	}
}

// position is where the walk stands in one open object or array.
type position struct {
	object  bool
	wantKey bool   // object: the next string is a key
	key     string // object: the current member's key
	index   int    // array: the current element's index
}

func (p *position) next() {
	if p.object {
		p.wantKey = true
	} else {
		p.index++
	}
}

func segments(stack []position) []any {
	out := make([]any, len(stack))
	for i, p := range stack {
		if p.object {
			out[i] = p.key
		} else {
			out[i] = p.index
		}
	}
	return out
}

// jsonPath writes segments as the API names fields: members joined by
// dots, elements in brackets ("oidc.scopes[1]").
func jsonPath(segs []any) string {
	var b strings.Builder
	for _, s := range segs {
		switch s := s.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(s) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// isTextLiteral reports whether a JSON string literal, quotes included,
// decodes to exactly the text it spells: its bytes are UTF-8 and each \u
// escape of a surrogate is one half of a pair.
func isTextLiteral(lit []byte) bool {
	for i := 1; i < len(lit)-1; {
		c := lit[i]
		switch {
		case c == '\\' && i+1 < len(lit) && lit[i+1] == 'u':
			r := hexRune(lit[i+2:])
			switch {
			case r < 0:
				return false
			case utf16.IsSurrogate(r):
				if r >= 0xDC00 || !bytes.HasPrefix(lit[i+6:], []byte(`\u`)) {
					return false // a low half first, or a high half alone
				}
				if lo := hexRune(lit[i+8:]); lo < 0xDC00 || lo > 0xDFFF {
					return false
				}
				i += 12
			default:
				i += 6
			}
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(lit[i:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			i += size
		}
	}
	return true
}

// hexRune reads the four hex digits a \u escape starts with, or -1.
func hexRune(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(n)
}
