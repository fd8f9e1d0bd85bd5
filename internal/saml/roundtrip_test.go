package saml

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"

	rtvalidator "github.com/mattermost/xml-roundtrip-validator"
)

// roundTripSeeds are start tags around the encoder's prefix choices: xml*
// prefixes, prefixes that collide with chosen ones, declarations followed by
// their use, and the validator's known refusals.
var roundTripSeeds = []string{
	`<samlp:Response xmlns:samlp="urn:p" xmlns:saml="urn:a" ID="_1" Version="2.0"/>`,
	`<saml:AttributeValue xmlns:saml="urn:a" xmlns:xs="urn:xs" xmlns:xsi="urn:xsi" xsi:type="xs:string">v</saml:AttributeValue>`,
	`<r xmlns:xsi="urn:xsi" xsi:type="t" xmlns:xs="urn:xs"/>`,
	`<y:E xmlns:y="P" xmlns:samlp="P" y:a="1" samlp:b="2"/>`,
	`<y:E xmlns:y="P" xmlns:samlp="Q" y:a="1" samlp:a="2"/>`,
	`<a xml:lang="en" xmlns:_xml="u" _xml:x="1"/>`,
	`<a xmlns:y="u" y:b="0" xmlns:z="v" z:a="1" y:c="2"/>`,
	`<a xmlns:y_1="u" xmlns:y="v" y:a="1" y_1:a="2"/>`,
	`<x:a xmlns:x="u" x:b="1" xmlns="d"/>`,
	`<?xml version="1.0"?><!-- c --><a><?pi  data?>t&amp;<![CDATA[<x>]]></a>`,
}

// TestRoundTripsMatchesValidator holds roundTrips to the validator's own
// CheckToken on every token, and the claim that only start tags can fail.
func TestRoundTripsMatchesValidator(t *testing.T) { // X-roundtrip
	for _, doc := range roundTripSeeds {
		checkRoundTrips(t, []byte(doc))
	}
}

// FuzzRoundTrips: the same on arbitrary documents.
//
//	go test ./internal/saml -run '^$' -fuzz FuzzRoundTrips -fuzztime 30s
func FuzzRoundTrips(f *testing.F) {
	for _, doc := range roundTripSeeds {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkRoundTrips(t, raw) })
}

func checkRoundTrips(t *testing.T, raw []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = true
	for {
		tok, err := dec.RawToken()
		if err == io.EOF || err != nil {
			return
		}
		tok = xml.CopyToken(tok)
		want := rtvalidator.CheckToken(tok) == nil
		switch tt := tok.(type) {
		case xml.StartElement:
			if checkNames(tt) != nil {
				continue // refused before roundTrips is asked
			}
			if got := roundTrips(tt); got != want {
				t.Fatalf("roundTrips(%v) = %v, CheckToken says %v", tt, got, want)
			}
		case xml.EndElement:
			// parseBoundedXML accepts an end tag only after its start tag.
			if wellFormedName(tt.Name) && roundTrips(xml.StartElement{Name: tt.Name}) && !want {
				t.Fatalf("CheckToken refuses the end tag %v", tt)
			}
		case xml.Directive:
		case xml.CharData:
			if len(tt) > 0 && !want {
				t.Fatalf("CheckToken refuses the character data %q, which parseBoundedXML accepts unchecked", tt)
			}
		default:
			if !want {
				t.Fatalf("CheckToken refuses %T %q, which parseBoundedXML accepts unchecked", tok, tok)
			}
		}
	}
}
