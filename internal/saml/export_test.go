package saml

import (
	"crypto/x509"
	"encoding/xml"
)

// SignatureVerdict runs Gatehouse's parse, structural allow-list and
// signature verification on raw, for the differential test against xmlsec1.
// refused is the rejection from before verification, when the document's
// shape or algorithms are refused on purpose; verified is meaningful only
// when refused is nil.
func SignatureVerdict(raw []byte, certs []*x509.Certificate) (verified bool, refused error) {
	root, verr := parseResponseXML(raw)
	if verr != nil {
		return false, verr
	}
	shape, verr := inspectResponse(root)
	if verr != nil {
		return false, verr
	}
	_, verr = verifySignatures(shape, certs)
	return verr == nil, nil
}

// ScanPlainXML is scanPlainXML with its tokens copied, for the test that
// holds it to encoding/xml; ok is whether it read the whole document.
func ScanPlainXML(raw []byte) (toks []xml.Token, ok bool) {
	ok = scanPlainXML(raw, func(tok xml.Token) bool {
		toks = append(toks, xml.CopyToken(tok))
		return true
	})
	return toks, ok
}

// RoundTripSeeds are the start tags of the round-trip tests.
var RoundTripSeeds = roundTripSeeds
