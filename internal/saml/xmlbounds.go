package saml

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
	rtvalidator "github.com/mattermost/xml-roundtrip-validator"

	"gatehouse"
)

// Input bounds, checked before any XML parser builds a tree. A real SAML
// Response or IdP metadata document is a few KiB to a few hundred KiB.
const (
	maxXMLBytes = 1 << 20
	// maxEncodedBytes allows the base64 of maxXMLBytes plus the line breaks
	// some IdPs insert every 64 or 76 characters.
	maxEncodedBytes = (maxXMLBytes+2)/3*4*105/100 + 4
	maxDepth        = 100
)

var errTooLarge = errors.New("XML too large")

// decodeResponseBase64 decodes the SAMLResponse form value after checking its
// size; the POST binding never deflates, so neither do we (no inflation bomb).
func decodeResponseBase64(s string) ([]byte, *gatehouse.Rejection) {
	if len(s) > maxEncodedBytes {
		return nil, reject(ErrTooLarge, gatehouse.FixInIdP, fmt.Sprintf("SAMLResponse is %d bytes of base64, over the %d byte limit", len(s), maxEncodedBytes))
	}
	// Exactly the decoding gosaml2 applies to the same value (line breaks
	// ignored), so both see the same bytes.
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, "SAMLResponse is not base64: "+err.Error()).Wrap(err)
	}
	return raw, nil
}

// parseBoundedXML parses untrusted XML into a tree after refusing anything
// over maxXMLBytes and, in one streaming pass that stops at the first problem,
// any DOCTYPE or other directive (entity expansion, XXE), nesting deeper than
// maxDepth and encodings other than UTF-8 (the decoder has no CharsetReader).
// Then it refuses input that encoding/xml would not read back the same way:
// the namespace confusions behind several SAML bypasses.
func parseBoundedXML(raw []byte) (*etree.Document, error) {
	if len(raw) > maxXMLBytes {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", errTooLarge, len(raw), maxXMLBytes)
	}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = true
	depth := 0
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errors.New("a DOCTYPE or other <! directive is not allowed")
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return nil, fmt.Errorf("elements nest deeper than %d levels", maxDepth)
			}
			if err := checkNames(t); err != nil {
				return nil, err
			}
		case xml.EndElement:
			depth--
		}
	}
	if err := rtvalidator.Validate(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("XML does not survive an encoding/xml round trip: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, fmt.Errorf("not well-formed XML: %w", err)
	}
	if doc.Root() == nil {
		return nil, errors.New("no root element")
	}
	return doc, nil
}

// parseResponseXML is parseBoundedXML with its errors as rejections.
func parseResponseXML(raw []byte) (*etree.Document, *gatehouse.Rejection) {
	doc, err := parseBoundedXML(raw)
	if errors.Is(err, errTooLarge) {
		return nil, reject(ErrTooLarge, gatehouse.FixInIdP, "SAMLResponse: "+err.Error()).Wrap(err)
	}
	if err != nil {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, "SAMLResponse: "+err.Error()).Wrap(err)
	}
	return doc, nil
}

// checkNames refuses malformed qualified names (":", "x:"), a declaration of
// the xmlns prefix, and repeated attributes, which encoding/xml lets through
// and which XML parsers need not agree on.
func checkNames(el xml.StartElement) error {
	if !wellFormedName(el.Name) {
		return fmt.Errorf("element name %q is not a well-formed qualified name", el.Name.Space+":"+el.Name.Local)
	}
	seen := make(map[xml.Name]bool, len(el.Attr))
	for _, a := range el.Attr {
		if !wellFormedName(a.Name) || (a.Name.Space == "xmlns" && a.Name.Local == "xmlns") {
			return fmt.Errorf("element <%s> has a malformed attribute name %q", el.Name.Local, strings.TrimPrefix(a.Name.Space+":"+a.Name.Local, ":"))
		}
		if seen[a.Name] {
			return fmt.Errorf("element <%s> repeats attribute %q", el.Name.Local, strings.TrimPrefix(a.Name.Space+":"+a.Name.Local, ":"))
		}
		seen[a.Name] = true
	}
	return nil
}

// wellFormedName is for names from RawToken, where Space is the raw prefix.
func wellFormedName(n xml.Name) bool {
	return n.Local != "" && !strings.Contains(n.Local, ":") && !strings.Contains(n.Space, ":")
}
