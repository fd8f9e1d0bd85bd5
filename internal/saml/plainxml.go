package saml

import (
	"encoding/xml"
	"unicode/utf8"
)

// scanPlainXML reads raw as encoding/xml's strict RawToken does, for the
// plain XML that IdPs send: elements, attributes in quotes, text with the
// five predefined entities and character references to tabs, line feeds
// and printable ASCII, and an XML declaration of version 1.0 in UTF-8 (or
// none). It hands each token to emit, exactly as RawToken would have
// returned it, and reports true when it read the whole document that way.
//
// It reports false, having stopped, at anything else: comments, CDATA
// sections, directives, other processing instructions, carriage returns
// in text or attribute values (which RawToken rewrites), non-ASCII names,
// other references, "]" in text, and every construct RawToken would
// refuse. The caller then reads the document again with encoding/xml
// itself, which gives the verdict and its reason. So it is never the
// judge of an odd document: it only saves encoding/xml's cost (a call
// through an io.ByteReader for every byte) on the common one. A false
// from emit stops it too. TestPlainXMLReadsAsEncodingXML and
// FuzzPlainXMLReadsAsEncodingXML hold it to RawToken token by token.
//
// The StartElement's Attr slice is reused from one element to the next:
// emit must not keep it.
func scanPlainXML(raw []byte, emit func(xml.Token) bool) bool {
	s := plainScanner{raw: raw}
	if len(raw) >= 5 && string(raw[:5]) == "<?xml" {
		if !s.declaration(emit) {
			return false
		}
	}
	for s.pos < len(raw) {
		if raw[s.pos] != '<' {
			text, ok := s.text(-1)
			if !ok || !emit(xml.CharData(text)) {
				return false
			}
			continue
		}
		s.pos++
		if s.pos >= len(raw) {
			return false
		}
		switch raw[s.pos] {
		case '/':
			s.pos++
			name, ok := s.name()
			if !ok {
				return false
			}
			s.space()
			if s.pos >= len(raw) || raw[s.pos] != '>' {
				return false
			}
			s.pos++
			if !emit(xml.EndElement{Name: name}) {
				return false
			}
		case '?', '!':
			return false
		default:
			if !s.element(emit) {
				return false
			}
		}
	}
	return true
}

// plainDeclarations are the XML declarations scanPlainXML reads, as
// RawToken's ProcInst carries them (after "<?xml" and its spaces, before
// "?>"); any other is left to encoding/xml, which checks version and
// encoding.
var plainDeclarations = map[string]bool{
	`version="1.0" encoding="UTF-8"`: true,
	`version="1.0" encoding="utf-8"`: true,
	`version="1.0"`:                  true,
	`version='1.0' encoding='UTF-8'`: true,
	`version='1.0' encoding='utf-8'`: true,
	`version='1.0'`:                  true,
}

type plainScanner struct {
	raw   []byte
	pos   int
	attrs []xml.Attr
	buf   []byte // text with references replaced
}

// declaration reads "<?xml ...?>" at the start.
func (s *plainScanner) declaration(emit func(xml.Token) bool) bool {
	s.pos = 5
	if s.pos >= len(s.raw) || !isSpaceByte(s.raw[s.pos]) {
		return false
	}
	s.space()
	start := s.pos
	for s.pos+1 < len(s.raw) && (s.raw[s.pos] != '?' || s.raw[s.pos+1] != '>') {
		s.pos++
	}
	if s.pos+1 >= len(s.raw) {
		return false
	}
	inst := s.raw[start:s.pos]
	if !plainDeclarations[string(inst)] {
		return false
	}
	s.pos += 2
	return emit(xml.ProcInst{Target: "xml", Inst: inst})
}

// element reads a start tag, its "<" already read.
func (s *plainScanner) element(emit func(xml.Token) bool) bool {
	name, ok := s.name()
	if !ok {
		return false
	}
	s.attrs = s.attrs[:0]
	empty := false
	for {
		s.space()
		if s.pos >= len(s.raw) {
			return false
		}
		c := s.raw[s.pos]
		if c == '>' {
			s.pos++
			break
		}
		if c == '/' {
			if s.pos+1 >= len(s.raw) || s.raw[s.pos+1] != '>' {
				return false
			}
			s.pos += 2
			empty = true
			break
		}
		an, ok := s.name()
		if !ok {
			return false
		}
		s.space()
		if s.pos >= len(s.raw) || s.raw[s.pos] != '=' {
			return false
		}
		s.pos++
		s.space()
		if s.pos >= len(s.raw) || (s.raw[s.pos] != '"' && s.raw[s.pos] != '\'') {
			return false
		}
		q := s.raw[s.pos]
		s.pos++
		v, ok := s.text(int(q))
		if !ok {
			return false
		}
		s.attrs = append(s.attrs, xml.Attr{Name: an, Value: string(v)})
	}
	if !emit(xml.StartElement{Name: name, Attr: s.attrs}) {
		return false
	}
	return !empty || emit(xml.EndElement{Name: name})
}

// name reads a name as RawToken's nsname splits it: ASCII only, starting
// with a letter or "_", with at most one ":" between a prefix and a local
// name.
func (s *plainScanner) name() (xml.Name, bool) {
	start, colon := s.pos, -1
	for s.pos < len(s.raw) {
		c := s.raw[s.pos]
		if c >= utf8.RuneSelf {
			return xml.Name{}, false
		}
		if !isNameByte(c) {
			break
		}
		if c == ':' {
			if colon >= 0 {
				return xml.Name{}, false
			}
			colon = s.pos
		}
		s.pos++
	}
	if s.pos == start || !isNameStart(s.raw[start]) || colon == s.pos-1 {
		return xml.Name{}, false
	}
	if colon < 0 {
		return xml.Name{Local: internName(s.raw[start:s.pos])}, true
	}
	return xml.Name{Space: internName(s.raw[start:colon]), Local: internName(s.raw[colon+1 : s.pos])}, true
}

// text reads character data up to "<" (quote < 0, the "<" left unread) or
// up to the closing quote (read), replacing references.
func (s *plainScanner) text(quote int) ([]byte, bool) {
	start, plain := s.pos, true
	s.buf = s.buf[:0]
	for {
		if s.pos >= len(s.raw) {
			if quote >= 0 {
				return nil, false
			}
			break
		}
		c := s.raw[s.pos]
		if c == '<' {
			if quote >= 0 {
				return nil, false
			}
			break
		}
		if quote >= 0 && int(c) == quote {
			break
		}
		switch {
		case c == '&':
			if plain {
				s.buf = append(s.buf, s.raw[start:s.pos]...)
				plain = false
			}
			r, n := reference(s.raw[s.pos:])
			if n == 0 {
				return nil, false
			}
			s.buf = append(s.buf, r)
			s.pos += n
			continue
		case c == ']' && quote < 0, c < 0x20 && c != '\t' && c != '\n':
			// "]" may begin "]]>", which RawToken refuses in text; of
			// the controls, "\r" is one it rewrites, the rest it refuses.
			return nil, false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(s.raw[s.pos:])
			if (r == utf8.RuneError && n == 1) || !inCharacterRange(r) {
				return nil, false
			}
			if !plain {
				s.buf = append(s.buf, s.raw[s.pos:s.pos+n]...)
			}
			s.pos += n
			continue
		}
		if !plain {
			s.buf = append(s.buf, c)
		}
		s.pos++
	}
	end := s.pos
	if quote >= 0 {
		s.pos++ // the closing quote
	}
	if plain {
		return s.raw[start:end], true
	}
	return s.buf, true
}

// reference reads the reference at the start of b ("&...;") and returns
// the byte it stands for and its length, or 0 for one scanPlainXML does
// not read.
func reference(b []byte) (byte, int) {
	end := 1
	for end < len(b) && end < 12 && b[end] != ';' {
		end++
	}
	if end >= len(b) || b[end] != ';' {
		return 0, 0
	}
	switch string(b[1:end]) {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "apos":
		return '\'', end + 1
	case "quot":
		return '"', end + 1
	}
	if end < 3 || b[1] != '#' {
		return 0, 0
	}
	digits, base := b[2:end], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || len(digits) > 4 {
		return 0, 0
	}
	n := 0
	for _, d := range digits {
		var v int
		switch {
		case '0' <= d && d <= '9':
			v = int(d - '0')
		case base == 16 && 'a' <= d && d <= 'f':
			v = int(d-'a') + 10
		case base == 16 && 'A' <= d && d <= 'F':
			v = int(d-'A') + 10
		default:
			return 0, 0
		}
		n = n*base + v
	}
	if n != '\t' && n != '\n' && (n < 0x20 || n > 0x7e) {
		return 0, 0
	}
	return byte(n), end + 1
}

func (s *plainScanner) space() {
	for s.pos < len(s.raw) && isSpaceByte(s.raw[s.pos]) {
		s.pos++
	}
}

// isSpaceByte is what RawToken skips between the parts of a tag.
func isSpaceByte(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// isNameByte is encoding/xml's: the ASCII bytes a name may hold.
func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// isNameStart is the ASCII a name may start with, ":" aside (RawToken
// keeps a leading ":" in the local name; scanPlainXML leaves that to it).
func isNameStart(c byte) bool { return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' }

// inCharacterRange is XML 1.0's Char production, as encoding/xml checks it.
func inCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// commonNames are the names of SAML responses, shared instead of
// allocated for every element.
var commonNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"samlp", "saml", "saml2", "saml2p", "ds", "xs", "xsi", "ec", "xenc", "md", "xmlns",
		"Response", "Assertion", "Issuer", "Status", "StatusCode", "StatusMessage", "Subject", "NameID",
		"SubjectConfirmation", "SubjectConfirmationData", "Conditions", "AudienceRestriction", "Audience",
		"AuthnStatement", "AuthnContext", "AuthnContextClassRef", "AttributeStatement", "Attribute", "AttributeValue",
		"Signature", "SignedInfo", "CanonicalizationMethod", "SignatureMethod", "Reference", "Transforms",
		"Transform", "DigestMethod", "DigestValue", "SignatureValue", "KeyInfo", "X509Data", "X509Certificate",
		"InclusiveNamespaces", "PrefixList",
		"ID", "Version", "IssueInstant", "Destination", "InResponseTo", "Format", "Method", "Recipient",
		"NotBefore", "NotOnOrAfter", "AuthnInstant", "SessionIndex", "SessionNotOnOrAfter", "Name", "NameFormat",
		"FriendlyName", "Value", "Algorithm", "URI", "type", "SPNameQualifier", "NameQualifier",
	} {
		m[n] = n
	}
	return m
}()

func internName(b []byte) string {
	if s, ok := commonNames[string(b)]; ok {
		return s
	}
	return string(b)
}
