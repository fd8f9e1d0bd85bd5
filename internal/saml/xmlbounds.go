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

// The namespaces XML itself binds (Namespaces in XML 1.0, section 3).
const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

var errTooLarge = errors.New("XML too large")

// decodeResponseBase64 decodes the SAMLResponse form value after checking its
// size; the POST binding never deflates, so neither do we (no inflation bomb).
func decodeResponseBase64(s string) ([]byte, *gatehouse.Rejection) {
	if len(s) > maxEncodedBytes {
		return nil, reject(ErrTooLarge, gatehouse.FixInIdP, fmt.Sprintf("SAMLResponse is %d bytes of base64, over the %d byte limit", len(s), maxEncodedBytes))
	}
	// Line breaks are ignored, as every SAML library does.
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, "SAMLResponse is not base64: "+err.Error()).Wrap(err)
	}
	return raw, nil
}

// parseBoundedXML parses untrusted XML into a tree in one streaming pass of
// encoding/xml's strict tokenizer that stops at the first problem. Before
// building anything it refuses input over maxXMLBytes; then, token by token:
// any DOCTYPE or other directive (entity expansion, XXE), nesting deeper than
// maxDepth, encodings other than UTF-8 (the decoder has no CharsetReader),
// malformed names (checkNames), undeclared or misdeclared namespace prefixes,
// end tags that do not close the open element, anything but one root element,
// and every token that encoding/xml would not read back the same way
// (roundTrips: the namespace confusions behind several SAML bypasses).
//
// The tree it returns is the only one: signatures are verified on it and
// values are read from it, so no second parser can see another document.
//
// Plain documents, as IdPs send them, are tokenized by scanPlainXML
// instead, which yields exactly the tokens encoding/xml would (about a
// third of the cost) and hands everything else back to encoding/xml; the
// checks on the tokens are the same.
func parseBoundedXML(raw []byte) (*etree.Document, error) {
	if len(raw) > maxXMLBytes {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", errTooLarge, len(raw), maxXMLBytes)
	}
	if doc := parsePlainXML(raw); doc != nil {
		return doc, nil
	}
	b := treeBuilder{doc: etree.NewDocument()}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = true
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		if err := b.add(tok); err != nil {
			return nil, err
		}
	}
	if b.doc.Root() == nil {
		return nil, errors.New("no root element")
	}
	if len(b.open) > 0 {
		return nil, fmt.Errorf("not well-formed XML: <%s> is not closed", b.open[len(b.open)-1].Tag)
	}
	return b.doc, nil
}

// parsePlainXML is parseBoundedXML's tree for a document scanPlainXML
// reads from end to end, built and checked token by token as
// encoding/xml's would be; nil for any other document, and for any
// document the checks refuse, which parseBoundedXML then reads with
// encoding/xml to say why.
func parsePlainXML(raw []byte) *etree.Document {
	b := treeBuilder{doc: etree.NewDocument()}
	if !scanPlainXML(raw, func(tok xml.Token) bool { return b.add(tok) == nil }) || b.doc.Root() == nil || len(b.open) > 0 {
		return nil
	}
	return b.doc
}

// treeBuilder turns the tokens of one document into an etree tree, checking
// each token as it comes.
type treeBuilder struct {
	doc  *etree.Document
	open []*etree.Element // the open elements, root first
	// scope holds the namespace declarations of the open elements, in
	// document order; marks[i] is where open[i]'s own declarations start.
	scope []nsBinding
	marks []int
}

// nsBinding is one namespace declaration: prefix ("" for the default
// namespace) bound to uri.
type nsBinding struct{ prefix, uri string }

func (b *treeBuilder) add(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.Directive:
		return errors.New("a DOCTYPE or other <! directive is not allowed")
	case xml.StartElement:
		return b.start(t)
	case xml.EndElement:
		return b.end(t)
	case xml.CharData:
		if len(t) == 0 {
			// Only an empty CDATA section makes one; the encoder writes
			// nothing for it, so it does not survive a round trip.
			return errors.New("an empty CDATA section does not survive an encoding/xml round trip")
		}
		if len(b.open) == 0 {
			if len(bytes.Trim(t, " \t\r\n")) > 0 {
				return errors.New("text outside the root element")
			}
			return nil
		}
		b.top().CreateText(string(t))
	case xml.Comment:
		if len(b.open) > 0 {
			b.top().CreateComment(string(t))
		}
	case xml.ProcInst:
		if len(b.open) > 0 {
			b.top().CreateProcInst(t.Target, string(t.Inst))
		}
	}
	// Comments, processing instructions and non-empty character data always
	// survive an encoding/xml round trip once the strict tokenizer accepted
	// them (see roundTrips); end tags do once their start tag did.
	return nil
}

func (b *treeBuilder) top() *etree.Element { return b.open[len(b.open)-1] }

func (b *treeBuilder) start(t xml.StartElement) error {
	if len(b.open) == maxDepth {
		return fmt.Errorf("elements nest deeper than %d levels", maxDepth)
	}
	if len(b.open) == 0 && b.doc.Root() != nil {
		return errors.New("more than one root element")
	}
	if err := checkNames(t); err != nil {
		return err
	}
	if !roundTrips(t) {
		return fmt.Errorf("element <%s> does not survive an encoding/xml round trip", t.Name.Local)
	}
	b.marks = append(b.marks, len(b.scope))
	for _, a := range t.Attr {
		if err := b.declare(a); err != nil {
			return err
		}
	}
	if err := b.checkPrefixes(t); err != nil {
		return err
	}

	el := &etree.Element{Space: t.Name.Space, Tag: t.Name.Local}
	for _, a := range t.Attr {
		el.CreateAttr(qualified(a.Name.Space, a.Name.Local), a.Value)
	}
	if len(b.open) == 0 {
		b.doc.AddChild(el)
	} else {
		b.top().AddChild(el)
	}
	b.open = append(b.open, el)
	return nil
}

// declare records a namespace declaration among an element's attributes,
// refusing those Namespaces in XML forbids: rebinding xml or xmlns, binding
// their namespaces to another prefix, and undeclaring a prefix.
func (b *treeBuilder) declare(a xml.Attr) error {
	var prefix string
	switch {
	case a.Name.Space == "" && a.Name.Local == "xmlns":
		prefix = ""
	case a.Name.Space == "xmlns":
		prefix = a.Name.Local
	default:
		return nil
	}
	switch {
	case prefix == "xml" && a.Value != nsXML,
		prefix != "xml" && a.Value == nsXML,
		a.Value == nsXMLNS:
		return fmt.Errorf("the namespace declaration %s=%q is not allowed", qualified(a.Name.Space, a.Name.Local), a.Value)
	case prefix != "" && a.Value == "":
		return fmt.Errorf("the namespace declaration xmlns:%s undeclares a prefix", prefix)
	}
	b.scope = append(b.scope, nsBinding{prefix, a.Value})
	return nil
}

// checkPrefixes refuses prefixes without a declaration in scope, and two
// attributes with the same namespace and local name under different
// prefixes, which Namespaces in XML forbids and parsers need not agree on.
func (b *treeBuilder) checkPrefixes(t xml.StartElement) error {
	if _, ok := b.lookup(t.Name.Space); t.Name.Space != "" && !ok {
		return fmt.Errorf("element <%s:%s> uses the undeclared prefix %q", t.Name.Space, t.Name.Local, t.Name.Space)
	}
	for i, a := range t.Attr {
		if a.Name.Space == "" || a.Name.Space == "xmlns" {
			continue
		}
		uri, ok := b.lookup(a.Name.Space)
		if !ok {
			return fmt.Errorf("attribute %s:%s uses the undeclared prefix %q", a.Name.Space, a.Name.Local, a.Name.Space)
		}
		for _, other := range t.Attr[:i] {
			if other.Name.Local == a.Name.Local && other.Name.Space != "" && other.Name.Space != "xmlns" {
				if otherURI, _ := b.lookup(other.Name.Space); otherURI == uri {
					return fmt.Errorf("element <%s> repeats attribute {%s}%s under two prefixes", t.Name.Local, uri, a.Name.Local)
				}
			}
		}
	}
	return nil
}

// lookup returns the namespace a prefix is bound to in the open element.
func (b *treeBuilder) lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return nsXML, true
	}
	for i := len(b.scope) - 1; i >= 0; i-- {
		if b.scope[i].prefix == prefix {
			return b.scope[i].uri, true
		}
	}
	return "", prefix == ""
}

// end closes the open element; unlike etree, RawToken does not check that
// the names match.
func (b *treeBuilder) end(t xml.EndElement) error {
	if len(b.open) == 0 {
		return fmt.Errorf("not well-formed XML: </%s> closes nothing", t.Name.Local)
	}
	if top := b.top(); top.Space != t.Name.Space || top.Tag != t.Name.Local {
		return fmt.Errorf("not well-formed XML: </%s> closes <%s>", qualified(t.Name.Space, t.Name.Local), qualified(top.Space, top.Tag))
	}
	b.open = b.open[:len(b.open)-1]
	b.scope = b.scope[:b.marks[len(b.marks)-1]]
	b.marks = b.marks[:len(b.marks)-1]
	return nil
}

func qualified(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// parseResponseXML is parseBoundedXML with its errors as rejections; it
// returns the root element.
func parseResponseXML(raw []byte) (*etree.Element, *gatehouse.Rejection) {
	doc, err := parseBoundedXML(raw)
	if errors.Is(err, errTooLarge) {
		return nil, reject(ErrTooLarge, gatehouse.FixInIdP, "SAMLResponse: "+err.Error()).Wrap(err)
	}
	if err != nil {
		return nil, reject(ErrMalformed, gatehouse.FixInIdP, "SAMLResponse: "+err.Error()).Wrap(err)
	}
	return doc.Root(), nil
}

// checkNames refuses malformed qualified names (":", "x:"), a declaration of
// the xmlns prefix, and repeated attributes, which encoding/xml lets through
// and which XML parsers need not agree on.
func checkNames(el xml.StartElement) error {
	if !wellFormedName(el.Name) {
		return fmt.Errorf("element name %q is not a well-formed qualified name", el.Name.Space+":"+el.Name.Local)
	}
	for i, a := range el.Attr {
		if !wellFormedName(a.Name) || (a.Name.Space == "xmlns" && a.Name.Local == "xmlns") {
			return fmt.Errorf("element <%s> has a malformed attribute name %q", el.Name.Local, strings.TrimPrefix(a.Name.Space+":"+a.Name.Local, ":"))
		}
		for _, other := range el.Attr[:i] {
			if other.Name == a.Name {
				return fmt.Errorf("element <%s> repeats attribute %q", el.Name.Local, strings.TrimPrefix(a.Name.Space+":"+a.Name.Local, ":"))
			}
		}
	}
	return nil
}

// wellFormedName is for names from RawToken, where Space is the raw prefix.
func wellFormedName(n xml.Name) bool {
	return n.Local != "" && !strings.Contains(n.Local, ":") && !strings.Contains(n.Space, ":")
}
