package saml_test

import (
	"bytes"
	"crypto"
	"encoding/xml"
	"errors"
	"io"
	"testing"

	"gatehouse/internal/saml"
	"gatehouse/internal/saml/samltest"
)

// plainSeeds are documents around the plain scanner's edges, each with
// whether it reads them itself (plain) or leaves them to encoding/xml.
var plainSeeds = []struct {
	doc   string
	plain bool
}{
	{`<a/>`, true},
	{`<a b="1"c='2' d = "3"	e="4"/>`, true},
	{"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<p:a xmlns:p=\"urn:p\"><p:b/>\n</p:a>\n", true},
	{`<?xml version='1.0'?><a/>`, true},
	{`<a>t&amp;&lt;&gt;&apos;&quot;&#65;&#x41;&#10;&#x9;&#0065;</a>`, true},
	{`<a b="&amp;&#x3C;&#34;'" c='"'>x</a>`, true},
	{`<a>é ünï 中文 😀</a>`, true},
	{`<a b="é"/>`, true},
	{`<_a.b-c:d1 x.y="1"/>`, true},
	{`<a></b>`, true},          // RawToken does not match end tags: the tree builder refuses it
	{`<a b="1" b="2"/>`, true}, // the same: checkNames refuses it
	{"\xef\xbb\xbf<a/>", true},
	{`text`, true},
	{`<a>`, true},
	{`<a/ >`, false},
	{`<a / >`, false},
	{`< a/>`, false},
	{`<a b=1/>`, false},
	{`<a b="1/>`, false},
	{`<a b="<"/>`, false},
	{`<a b/>`, false},
	{`<a:b:c/>`, false},
	{`<:a/>`, false},
	{`<a:/>`, false},
	{`<a b:="1"/>`, false},
	{`<1a/>`, false},
	{"<a>x\r\ny</a>", false},
	{"<a\r\nb=\"1\"/>", true}, // between the parts of a tag, RawToken skips it as it is
	{`<a>]]></a>`, false},
	{`<a>]</a>`, false},
	{`<a b="]]>"/>`, true},
	{"<a>\xff</a>", false},
	{"<a>\x01</a>", false},
	{"<a>\xef\xbf\xbe</a>", false},
	{`<a>&#0;</a>`, false},
	{`<a>&#x10FFFF;</a>`, false},
	{`<a>&#xD;</a>`, false},
	{`<a>&unknown;</a>`, false},
	{`<a>&amp</a>`, false},
	{`<a>&#;</a>`, false},
	{`<a>&#x;</a>`, false},
	{`<a>&#X41;</a>`, false},
	{`<a>&#65</a>`, false},
	{`<a><!-- c --></a>`, false},
	{`<a><![CDATA[x]]></a>`, false},
	{`<!DOCTYPE a><a/>`, false},
	{`<a><?pi x?></a>`, false},
	{`<?xml version="1.1"?><a/>`, false},
	{`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, false},
	{`<?xml version="1.0" standalone="yes"?><a/>`, false},
	{`<?xml-stylesheet href="x"?><a/>`, false},
	{` <?xml version="1.0"?><a/>`, false},
	{`</a`, false},
	{`<a`, false},
	{`<a b="1"`, false},
	{``, true},
}

// TestPlainXMLReadsAsEncodingXML holds the plain scanner to encoding/xml's
// strict RawToken (X-roundtrip: the one tree rests on that tokenizer's
// verdicts): every document it reads to the end, encoding/xml reads to the
// end too, token for token. The corpus is the seeds above, the round-trip
// tests' start tags, and the xmlsec1 differential corpus: valid responses
// in every signing layout, byte-level edits of them, the signature-wrapping
// and other attack documents. Responses as IdPs send them, in every
// signing layout and digest, with attribute values that need escaping and
// non-ASCII text, must be read by the plain scanner itself, or the speed
// it exists for is lost.
func TestPlainXMLReadsAsEncodingXML(t *testing.T) {
	for _, s := range plainSeeds {
		if _, ok := saml.ScanPlainXML([]byte(s.doc)); ok != s.plain {
			t.Errorf("plain scanner read %q: %v, want %v", s.doc, ok, s.plain)
		}
		checkPlainXML(t, []byte(s.doc))
	}
	for _, doc := range saml.RoundTripSeeds {
		checkPlainXML(t, []byte(doc))
	}
	plain := 0
	for _, tc := range differentialCorpus(t) {
		if checkPlainXML(t, tc.raw) {
			plain++
		}
	}
	t.Logf("the plain scanner read %d documents of the differential corpus itself", plain)

	f := newFixture(t)
	r := f.response()
	r.Attributes = map[string][]string{"displayName": {"Zoë O'Brien & Co"}, "groups": {"R&D", "<Admins>"}}
	for _, layout := range []samltest.Signing{signBoth, {Assertion: true}, {Response: true}, {Assertion: true, OmitKeyInfo: true}} {
		for _, hash := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			layout.Hash = hash
			if raw := mustXML(t, f.doc(t, nil, r, layout)); !checkPlainXML(t, raw) {
				t.Errorf("a response signed %+v, as IdPs send them, is left to encoding/xml:\n%s", layout, raw)
			}
		}
	}
}

// FuzzPlainXMLReadsAsEncodingXML: the same on arbitrary documents.
//
//	go test ./internal/saml -run '^$' -fuzz FuzzPlainXMLReadsAsEncodingXML -fuzztime 30s
func FuzzPlainXMLReadsAsEncodingXML(f *testing.F) {
	for _, s := range plainSeeds {
		f.Add([]byte(s.doc))
	}
	for _, doc := range saml.RoundTripSeeds {
		f.Add([]byte(doc))
	}
	fx := newFixture(f)
	for _, s := range []samltest.Signing{signBoth, {Assertion: true}} {
		f.Add(mustXML(f, fx.doc(f, nil, fx.response(), s)))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkPlainXML(t, raw) })
}

// checkPlainXML fails t when the plain scanner reads raw otherwise than
// encoding/xml's strict RawToken, and reports whether it read it.
func checkPlainXML(t *testing.T, raw []byte) bool {
	t.Helper()
	got, ok := saml.ScanPlainXML(raw)
	if !ok {
		return false
	}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = true
	var want []xml.Token
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the plain scanner read %q, which encoding/xml refuses: %v", raw, err)
		}
		want = append(want, xml.CopyToken(tok))
	}
	if len(got) != len(want) {
		t.Fatalf("%q: the plain scanner read %d tokens, encoding/xml %d:\n%#v\n%#v", raw, len(got), len(want), got, want)
	}
	for i := range got {
		if !sameToken(got[i], want[i]) {
			t.Fatalf("%q: token %d is %#v, encoding/xml read %#v", raw, i, got[i], want[i])
		}
	}
	return true
}

func sameToken(a, b xml.Token) bool {
	switch a := a.(type) {
	case xml.StartElement:
		b, ok := b.(xml.StartElement)
		if !ok || a.Name != b.Name || len(a.Attr) != len(b.Attr) {
			return false
		}
		for i := range a.Attr {
			if a.Attr[i] != b.Attr[i] {
				return false
			}
		}
		return true
	case xml.EndElement:
		b, ok := b.(xml.EndElement)
		return ok && a == b
	case xml.CharData:
		b, ok := b.(xml.CharData)
		return ok && bytes.Equal(a, b)
	case xml.ProcInst:
		b, ok := b.(xml.ProcInst)
		return ok && a.Target == b.Target && bytes.Equal(a.Inst, b.Inst)
	}
	return false
}
