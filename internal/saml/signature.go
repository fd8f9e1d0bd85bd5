package saml

import (
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/russellhaering/gosaml2/types"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"

	"gatehouse"
)

// maxKeyInfoCerts bounds how many KeyInfo certificates a failure message
// looks at; IdPs send one, or a chain of two or three.
const maxKeyInfoCerts = 4

// verifySignatures finds the first configured certificate, in the
// configuration's order, whose key verifies every signature of the shaped
// Response, and returns the Response read from the bytes that signature
// covers. KeyInfo plays no part (S-keyinfo, S-keyinfo-interop): each
// attempt's goxmldsig store holds one configured certificate and the
// signature goes to goxmldsig without its KeyInfo, so goxmldsig verifies with
// that certificate's key instead of matching KeyInfo against the store.
func verifySignatures(shape *responseShape, certs []*x509.Certificate, at time.Time) (*types.Response, *x509.Certificate, *gatehouse.Rejection) {
	failures := make([]error, len(certs))
	for i, cert := range certs {
		resp, err := verifiedWith(shape, cert, at)
		if err == nil {
			return resp, cert, nil
		}
		failures[i] = err
	}
	// KeyInfo is looked at only now, and only to explain whose key did sign.
	var signer *x509.Certificate
	for _, c := range shape.keyInfoCerts[:min(len(shape.keyInfoCerts), maxKeyInfoCerts)] {
		if _, err := verifiedWith(shape, c, at); err == nil {
			signer = c
			break
		}
	}
	return nil, nil, signatureFailure(certs, failures, shape.keyInfoCerts, signer)
}

// verifiedWith verifies every signature of the shaped Response with the key
// of cert alone, whatever the signatures' KeyInfo says, and returns the
// Response as gosaml2 would have built it: read from the verified Response
// when that is signed, with its Assertion re-verified when the Assertion is
// signed too; otherwise the unverified envelope around only the Assertion
// read from its verified bytes.
func verifiedWith(shape *responseShape, cert *x509.Certificate, at time.Time) (*types.Response, error) {
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{dateless(cert)}})
	ctx.Clock = dsig.NewFakeClockAt(at)
	resp := &types.Response{}
	if shape.responseSig == nil {
		assertion, err := validateEnveloped(ctx, shape.assertion)
		if err != nil {
			return nil, &signatureError{describe(shape.assertion), err}
		}
		if err := unmarshalElement(shape.root, resp); err != nil {
			return nil, err
		}
		a := types.Assertion{}
		if err := unmarshalElement(assertion, &a); err != nil {
			return nil, err
		}
		a.SignatureValidated = true
		resp.SignatureValidated = false
		resp.Assertions, resp.EncryptedAssertions = []types.Assertion{a}, nil
		return resp, nil
	}
	root, err := validateEnveloped(ctx, shape.root)
	if err != nil {
		return nil, &signatureError{describe(shape.root), err}
	}
	if shape.assertionSig != nil {
		inside := child(root, nsAssertion, "Assertion")
		if inside == nil {
			return nil, errors.New("the verified Response holds no Assertion")
		}
		assertion, err := validateEnveloped(ctx, inside)
		if err != nil {
			return nil, &signatureError{describe(inside), err}
		}
		at := inside.Index()
		root.RemoveChild(inside)
		root.InsertChildAt(at, assertion)
	}
	if err := unmarshalElement(root, resp); err != nil {
		return nil, err
	}
	resp.SignatureValidated = true
	return resp, nil
}

// signatureError is a goxmldsig refusal of the Signature on one element.
type signatureError struct {
	signed string // the signed element, as describe names it
	err    error
}

func (e *signatureError) Error() string { return "the Signature on " + e.signed + ": " + e.err.Error() }
func (e *signatureError) Unwrap() error { return e.err }

// validateEnveloped verifies the Signature enveloped in el with ctx and
// returns el as its verified bytes read. The Signature is handed over
// without its KeyInfo, which lies outside what is signed (the enveloped
// transform drops the whole Signature and the one Reference names el), so
// the verified content is the same; without KeyInfo goxmldsig uses its one
// configured certificate.
func validateEnveloped(ctx *dsig.ValidationContext, el *etree.Element) (*etree.Element, error) {
	ns, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, err
	}
	detached, err := etreeutils.NSDetatch(ns, el)
	if err != nil {
		return nil, err
	}
	for _, sig := range children(detached, nsDSig, "Signature") {
		for _, keyInfo := range children(sig, nsDSig, "KeyInfo") {
			sig.RemoveChild(keyInfo)
		}
	}
	return ctx.Validate(detached)
}

// unmarshalElement reads el into v with encoding/xml, as gosaml2 does.
func unmarshalElement(el *etree.Element, v any) error {
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	raw, err := doc.WriteToBytes()
	if err != nil {
		return err
	}
	return xml.Unmarshal(raw, v)
}

// dateless returns a copy of a configured certificate whose validity dates
// goxmldsig will not enforce; see ValidateResponse for why expiry is
// accepted.
func dateless(cert *x509.Certificate) *x509.Certificate {
	c := *cert
	c.NotBefore = time.Time{}
	c.NotAfter = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	return &c
}

// signatureFailure explains that no configured certificate verified,
// with the configured certificates' fingerprints as Expected and those of
// the certificates KeyInfo carried as Received (information only), and
// advice that is true for this message. failures holds each configured
// certificate's error; signer is the KeyInfo certificate whose key does
// verify the message, or nil. Only with a signer would adding a certificate
// help, so only then is the fix in Gatehouse.
func signatureFailure(configured []*x509.Certificate, failures []error, claimed []*x509.Certificate, signer *x509.Certificate) *gatehouse.Rejection {
	var msg strings.Builder
	var changed *signatureError
	i := slices.IndexFunc(failures, digestMismatch)
	switch {
	case i >= 0 && errors.As(failures[i], &changed):
		fmt.Fprintf(&msg, "the message was changed after it was signed: the key of the configured %s made the Signature on %s, but that element is not what it signed", certList(configured[i:i+1]), changed.signed)
	case len(configured) == 1:
		fmt.Fprintf(&msg, "the signature does not verify with the configured %s", certList(configured))
	default:
		fmt.Fprintf(&msg, "the signature verifies with none of the %d configured certificates (%s)", len(configured), certList(configured))
	}
	fix := gatehouse.FixInIdP
	switch {
	case signer != nil:
		fix = gatehouse.FixInGatehouse
		fmt.Fprintf(&msg, "; the message is signed with the key of the %s carried in KeyInfo, which is not configured for this IdP: if the IdP really moved to that key, add that certificate after checking its fingerprint with the IdP's administrator (anyone can put a certificate in KeyInfo)", certList([]*x509.Certificate{signer}))
	case len(claimed) > 0:
		fmt.Fprintf(&msg, "; KeyInfo carries %s, shown for information only (KeyInfo never chooses the key)", certList(claimed))
		if slices.ContainsFunc(claimed, func(c *x509.Certificate) bool { return !slices.ContainsFunc(configured, c.Equal) }) {
			msg.WriteString(": no certificate in it verifies the message either, so adding one would not help")
		}
	}
	verr := reject(ErrSignature, fix, msg.String())
	verr.Expected = fingerprints(configured)
	verr.Received = fingerprints(claimed)
	if len(failures) > 0 {
		verr.Wrap(failures[0])
	}
	return verr
}

// digestMismatch reports whether err is goxmldsig's refusal of a signature
// whose SignatureValue verified with the key but whose digest does not match
// the signed element. goxmldsig v1.6.1 gives that refusal only this text
// (TestSignatureFailureReason notices if an upgrade changes it).
func digestMismatch(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == "Signature could not be verified" {
			return true
		}
	}
	return false
}

// certList names certificates by subject and SHA-256 fingerprint.
func certList(certs []*x509.Certificate) string {
	names := make([]string, len(certs))
	for i, c := range certs {
		names[i] = fmt.Sprintf("certificate %s (SHA-256 %s)", c.Subject, fingerprint(c))
	}
	return strings.Join(names, ", ")
}

// fingerprints lists the certificates' SHA-256 fingerprints.
func fingerprints(certs []*x509.Certificate) string {
	fps := make([]string, len(certs))
	for i, c := range certs {
		fps[i] = fingerprint(c)
	}
	return strings.Join(fps, ", ")
}
