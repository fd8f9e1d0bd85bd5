package saml

import (
	"crypto"
	"crypto/rsa"
	_ "crypto/sha256" // the allow-listed hashes, for crypto.Hash.New
	_ "crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"gatehouse"
)

// maxKeyInfoCerts bounds how many KeyInfo certificates a failure message
// looks at; IdPs send one, or a chain of two or three.
const maxKeyInfoCerts = 4

// Hashes of the allow-listed algorithms (shape.go).
var (
	signatureHashes = map[string]crypto.Hash{algRSASHA256: crypto.SHA256, algRSASHA384: crypto.SHA384, algRSASHA512: crypto.SHA512}
	digestHashes    = map[string]crypto.Hash{algSHA256: crypto.SHA256, algSHA384: crypto.SHA384, algSHA512: crypto.SHA512}
)

// Why one signature failed with one key.
var (
	errSignatureValue = errors.New("the SignatureValue does not verify with this key")
	// errDigestMismatch: the key made the SignatureValue over SignedInfo, but
	// the signed element's digest is not the one SignedInfo holds.
	errDigestMismatch = errors.New("the signed element is not what was signed")
)

// signedElement is one enveloped signature checked against its element,
// everything but the key: the digest of the element as it is now, and the
// hash of SignedInfo the SignatureValue must match. Both are computed on the
// parsed tree the values are later read from, so what is verified is what
// is read.
type signedElement struct {
	el, sig *etree.Element
	// digestMatches says the canonical element hashes to SignedInfo's
	// DigestValue.
	digestMatches bool
	hash          crypto.Hash // of SignatureMethod
	signedInfo    []byte      // hash of the canonical SignedInfo
	value         []byte      // SignatureValue, nil when not base64
}

// prepareSignature canonicalizes and hashes what the Signature sig on el
// covers. checkSignaturePolicy has already held sig to the allow-list, so
// the algorithms and the element structure read here are known.
func prepareSignature(el, sig *etree.Element) *signedElement {
	info := child(sig, nsDSig, "SignedInfo")
	ref := child(info, nsDSig, "Reference")
	s := &signedElement{el: el, sig: sig}

	digestHash := digestHashes[child(ref, nsDSig, "DigestMethod").SelectAttrValue("Algorithm", "")]
	digest := canonicalDigest(digestHash.New(), el, sig, inclusivePrefixes(lastTransform(ref)))
	want, err := decodeBase64Body(textOf(child(ref, nsDSig, "DigestValue")))
	s.digestMatches = err == nil && subtle.ConstantTimeCompare(digest, want) == 1

	s.hash = signatureHashes[child(info, nsDSig, "SignatureMethod").SelectAttrValue("Algorithm", "")]
	s.signedInfo = canonicalDigest(s.hash.New(), info, nil, inclusivePrefixes(child(info, nsDSig, "CanonicalizationMethod")))
	if value, err := decodeBase64Body(textOf(child(sig, nsDSig, "SignatureValue"))); err == nil {
		s.value = value
	}
	return s
}

func lastTransform(ref *etree.Element) *etree.Element {
	ts := child(ref, nsDSig, "Transforms").ChildElements()
	return ts[len(ts)-1]
}

// inclusivePrefixes reads the InclusiveNamespaces PrefixList of an exc-c14n
// Transform or CanonicalizationMethod; "#default" is the default namespace.
func inclusivePrefixes(method *etree.Element) []string {
	list := child(method, nsExcC14N, "InclusiveNamespaces")
	if list == nil {
		return nil
	}
	prefixes := strings.Fields(list.SelectAttrValue("PrefixList", ""))
	for i, p := range prefixes {
		if p == "#default" {
			prefixes[i] = ""
		}
	}
	return prefixes
}

// verifyWith checks the signature with one public key.
func (s *signedElement) verifyWith(pub *rsa.PublicKey) error {
	if s.value == nil || rsa.VerifyPKCS1v15(pub, s.hash, s.signedInfo, s.value) != nil {
		return &signatureError{describe(s.el), errSignatureValue}
	}
	if !s.digestMatches {
		return &signatureError{describe(s.el), errDigestMismatch}
	}
	return nil
}

// signedElements prepares each signature of the shaped Response, the
// Response's first.
func signedElements(shape *responseShape) []*signedElement {
	var out []*signedElement
	if shape.responseSig != nil {
		out = append(out, prepareSignature(shape.root, shape.responseSig))
	}
	if shape.assertionSig != nil {
		out = append(out, prepareSignature(shape.assertion, shape.assertionSig))
	}
	return out
}

// verifySignatures finds the first configured certificate, in the
// configuration's order, whose key verifies every signature of the shaped
// Response; responseSigned says whether the Response itself is signed.
// KeyInfo plays no part (S-keyinfo, S-keyinfo-interop): only the configured
// certificates' keys are tried, whatever KeyInfo holds or lacks.
func verifySignatures(shape *responseShape, certs []*x509.Certificate) (*x509.Certificate, *gatehouse.Rejection) {
	signed := signedElements(shape)
	failures := make([]error, len(certs))
	for i, cert := range certs {
		if failures[i] = verifyAll(signed, cert); failures[i] == nil {
			return cert, nil
		}
	}
	// KeyInfo is looked at only now, and only to explain whose key did sign.
	claimed := shape.keyInfoCerts()
	var signer *x509.Certificate
	for _, c := range claimed[:min(len(claimed), maxKeyInfoCerts)] {
		if verifyAll(signed, c) == nil {
			signer = c
			break
		}
	}
	return nil, signatureFailure(certs, failures, claimed, signer)
}

// verifyAll checks every signature with cert's key; the validity dates of
// cert play no part (see ValidateResponse for why expiry is accepted).
func verifyAll(signed []*signedElement, cert *x509.Certificate) error {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("certificate %s has no RSA key", cert.Subject)
	}
	for _, s := range signed {
		if err := s.verifyWith(pub); err != nil {
			return err
		}
	}
	return nil
}

// signatureError is the refusal of the Signature on one element.
type signatureError struct {
	signed string // the signed element, as describe names it
	err    error
}

func (e *signatureError) Error() string { return "the Signature on " + e.signed + ": " + e.err.Error() }
func (e *signatureError) Unwrap() error { return e.err }

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
	i := slices.IndexFunc(failures, func(err error) bool { return errors.Is(err, errDigestMismatch) })
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
