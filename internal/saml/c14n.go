package saml

import (
	"hash"
	"strings"
	"sync"

	"github.com/beevik/etree"
)

// Exclusive XML Canonicalization 1.0 without comments
// (https://www.w3.org/TR/xml-exc-c14n/), the only canonicalization the
// signature allow-list accepts, written straight into a hash from the parsed
// tree: no copy of the tree, no detached element, no intermediate document.
//
// The input is always an element subtree (the signed element or SignedInfo)
// minus at most one omitted element (the enveloped Signature), so of the
// c14n rules only these apply: namespace declarations are output where a
// prefix is visibly used (or listed in InclusiveNamespaces) and the nearest
// output ancestor did not already output it with that value; they come
// before the attributes, sorted by prefix; attributes are sorted by
// namespace name then local name; empty elements get an end tag; comments
// are dropped; processing instructions are kept; text and attribute values
// are escaped as c14n says. xml:* attributes of ancestors are not inherited
// (exclusive c14n), and the xml namespace is never declared.

// canonicalizer writes one exclusive canonical form.
type canonicalizer struct {
	out  *hashWriter
	omit *etree.Element // the enveloped Signature, or nil
	// inclusive are the InclusiveNamespaces PrefixList entries ("" for
	// #default): treated as used on every element, as inclusive c14n would.
	inclusive []string
	// inScope holds the declarations in scope, outermost first, including
	// those of the apex's ancestors; rendered holds what output elements
	// declared. Both are stacks cut back as elements close.
	inScope, rendered []nsBinding
}

// canonicalDigest hashes the exclusive canonical form of apex, without omit
// and its subtree, with h.
func canonicalDigest(h hash.Hash, apex, omit *etree.Element, inclusive []string) []byte {
	c := canonicalizer{out: newHashWriter(h), omit: omit, inclusive: inclusive}
	defer c.out.release()
	c.inScope = ancestorDeclarations(apex)
	c.element(apex)
	c.out.flush()
	return h.Sum(nil)
}

// ancestorDeclarations lists the namespace declarations of el's ancestors,
// outermost first, so that later ones shadow earlier ones.
func ancestorDeclarations(el *etree.Element) []nsBinding {
	var chain []*etree.Element
	for p := el.Parent(); p != nil; p = p.Parent() {
		chain = append(chain, p)
	}
	var out []nsBinding
	for i := len(chain) - 1; i >= 0; i-- {
		out = appendDeclarations(out, chain[i])
	}
	return out
}

func appendDeclarations(scope []nsBinding, el *etree.Element) []nsBinding {
	for _, a := range el.Attr {
		switch {
		case a.Space == "" && a.Key == "xmlns":
			scope = append(scope, nsBinding{"", a.Value})
		case a.Space == "xmlns":
			scope = append(scope, nsBinding{a.Key, a.Value})
		}
	}
	return scope
}

func lookupBinding(scope []nsBinding, prefix string) (string, bool) {
	if prefix == "xml" {
		return nsXML, true
	}
	for i := len(scope) - 1; i >= 0; i-- {
		if scope[i].prefix == prefix {
			return scope[i].uri, true
		}
	}
	return "", false
}

// canonicalAttr is an attribute with its namespace name, for sorting.
type canonicalAttr struct {
	uri string
	a   *etree.Attr
}

func (c *canonicalizer) element(el *etree.Element) {
	scopeMark, renderedMark := len(c.inScope), len(c.rendered)
	c.inScope = appendDeclarations(c.inScope, el)

	c.out.str("<")
	c.out.str(qualified(el.Space, el.Tag))
	c.namespaces(el)
	c.attributes(el)
	c.out.str(">")
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if t != c.omit {
				c.element(t)
			}
		case *etree.CharData:
			c.out.text(t.Data)
		case *etree.ProcInst:
			c.out.str("<?")
			c.out.str(t.Target)
			if t.Inst != "" {
				c.out.str(" ")
				c.out.str(t.Inst)
			}
			c.out.str("?>")
		}
	}
	c.out.str("</")
	c.out.str(qualified(el.Space, el.Tag))
	c.out.str(">")

	c.inScope, c.rendered = c.inScope[:scopeMark], c.rendered[:renderedMark]
}

// namespaces writes the declarations el must carry, sorted by prefix.
func (c *canonicalizer) namespaces(el *etree.Element) {
	var buf [8]nsBinding
	needed := buf[:0]
	need := func(prefix string) {
		if prefix == "xml" || prefix == "xmlns" {
			return
		}
		for _, n := range needed {
			if n.prefix == prefix {
				return
			}
		}
		uri, ok := lookupBinding(c.inScope, prefix)
		if !ok && prefix != "" {
			return // only listed in InclusiveNamespaces, not declared
		}
		if done, ok := lookupBinding(c.rendered, prefix); done == uri && (ok || uri == "") {
			return // an output ancestor declared it so, or no default either way
		}
		needed = append(needed, nsBinding{prefix, uri})
	}
	need(el.Space)
	for _, a := range el.Attr {
		if a.Space != "" && a.Space != "xmlns" {
			need(a.Space)
		}
	}
	for _, p := range c.inclusive {
		need(p)
	}
	sortBy(needed, func(a, b nsBinding) bool { return a.prefix < b.prefix })
	for _, n := range needed {
		if n.prefix == "" {
			c.out.str(` xmlns="`)
		} else {
			c.out.str(" xmlns:")
			c.out.str(n.prefix)
			c.out.str(`="`)
		}
		c.out.attrValue(n.uri)
		c.out.str(`"`)
	}
	c.rendered = append(c.rendered, needed...)
}

// attributes writes el's attributes (not its namespace declarations),
// sorted by namespace name, then local name; unqualified ones come first.
func (c *canonicalizer) attributes(el *etree.Element) {
	var buf [8]canonicalAttr
	attrs := buf[:0]
	for i := range el.Attr {
		a := &el.Attr[i]
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		uri := ""
		if a.Space != "" {
			uri, _ = lookupBinding(c.inScope, a.Space)
		}
		attrs = append(attrs, canonicalAttr{uri, a})
	}
	sortBy(attrs, func(x, y canonicalAttr) bool {
		if x.uri != y.uri {
			return x.uri < y.uri
		}
		return x.a.Key < y.a.Key
	})
	for _, at := range attrs {
		c.out.str(" ")
		c.out.str(qualified(at.a.Space, at.a.Key))
		c.out.str(`="`)
		c.out.attrValue(at.a.Value)
		c.out.str(`"`)
	}
}

// sortBy is an insertion sort: elements have a handful of attributes, and
// this keeps them on the stack.
func sortBy[T any](s []T, less func(a, b T) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// hashWriter buffers canonical output into a hash.
type hashWriter struct {
	h   hash.Hash
	buf []byte
}

// hashBuffers keeps hashWriters' buffers between digests: four digests a
// response, each of which allocated its own, made a tenth of the bytes
// the sign-in path allocated.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func newHashWriter(h hash.Hash) *hashWriter {
	return &hashWriter{h: h, buf: (*hashBuffers.Get().(*[]byte))[:0]}
}

// release gives w's buffer back; w is not used after.
func (w *hashWriter) release() {
	b := w.buf[:0]
	w.buf = nil
	hashBuffers.Put(&b)
}

func (w *hashWriter) str(s string) {
	if len(w.buf)+len(s) > cap(w.buf) {
		w.flush()
		if len(s) > cap(w.buf) {
			w.h.Write([]byte(s))
			return
		}
	}
	w.buf = append(w.buf, s...)
}

func (w *hashWriter) flush() {
	w.h.Write(w.buf)
	w.buf = w.buf[:0]
}

// text writes character data escaped as c14n requires.
func (w *hashWriter) text(s string) {
	w.escaped(s, textEscapes)
}

// attrValue writes an attribute value escaped as c14n requires.
func (w *hashWriter) attrValue(s string) {
	w.escaped(s, attrEscapes)
}

var (
	textEscapes = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")
	attrEscapes = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\t", "&#x9;", "\n", "&#xA;", "\r", "&#xD;")
)

func (w *hashWriter) escaped(s string, r *strings.Replacer) {
	if !strings.ContainsAny(s, "&<>\"\t\n\r") {
		w.str(s)
		return
	}
	w.str(r.Replace(s))
}
