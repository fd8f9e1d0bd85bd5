package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"gatehouse/internal/oidcrp"
)

// entraConfig is the provider's multi-tenant Entra ID application as the
// operator configures it: its client ID, the authority, and a client
// secret (from a file or the environment, never a plain flag, so it does
// not show in the process list) or a certificate with its private key.
type entraConfig struct {
	ClientID        string
	Authority       string
	SecretFile      string
	CertificateFile string
	KeyFile         string
	// secret is $GATEHOUSE_ENTRA_CLIENT_SECRET.
	secret string
}

// entraFlags defines the provider's Entra ID application's flags.
func entraFlags(fs *flag.FlagSet, c *entraConfig, getenv func(string) string) {
	envString(fs, &c.ClientID, "entra-client-id", "GATEHOUSE_ENTRA_CLIENT_ID", "",
		"application (client) ID of the provider's multi-tenant Entra ID application, which customers' admins grant consent to (unset: the Entra ID multi-tenant preset is not offered)", getenv)
	envString(fs, &c.Authority, "entra-authority", "GATEHOUSE_ENTRA_AUTHORITY", oidcrp.DefaultEntraAuthority,
		"Entra ID sign-in host of that application (another cloud's, such as https://login.microsoftonline.us)", getenv)
	envString(fs, &c.SecretFile, "entra-client-secret-file", "GATEHOUSE_ENTRA_CLIENT_SECRET_FILE", "",
		"file holding the application's client secret (or set $GATEHOUSE_ENTRA_CLIENT_SECRET)", getenv)
	envString(fs, &c.CertificateFile, "entra-certificate-file", "GATEHOUSE_ENTRA_CERTIFICATE_FILE", "",
		"PEM file with the application's certificate credential and its unencrypted RSA private key, used instead of a client secret", getenv)
	envString(fs, &c.KeyFile, "entra-certificate-key-file", "GATEHOUSE_ENTRA_CERTIFICATE_KEY_FILE", "",
		"PEM file with the certificate's private key, when it is not in --entra-certificate-file", getenv)
	c.secret = getenv("GATEHOUSE_ENTRA_CLIENT_SECRET")
}

// load reads the application's credentials and checks them; nil when no
// client ID is set (the operator configured no application).
func (c entraConfig) load() (*oidcrp.EntraApp, error) {
	if strings.TrimSpace(c.ClientID) == "" {
		if c.SecretFile != "" || c.secret != "" || c.CertificateFile != "" || c.KeyFile != "" {
			return nil, errors.New("the provider's Entra ID application: a secret or certificate is set but no --entra-client-id")
		}
		return nil, nil
	}
	app := &oidcrp.EntraApp{Authority: c.Authority, ClientID: strings.TrimSpace(c.ClientID), ClientSecret: c.secret}
	if c.SecretFile != "" {
		b, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("the Entra ID client secret file: %w", err)
		}
		app.ClientSecret = strings.TrimSpace(string(b))
	}
	if c.KeyFile != "" && c.CertificateFile == "" {
		return nil, errors.New("--entra-certificate-key-file needs --entra-certificate-file")
	}
	if c.CertificateFile != "" {
		var pems [][]byte
		for _, f := range []string{c.CertificateFile, c.KeyFile} {
			if f == "" {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("the Entra ID certificate: %w", err)
			}
			pems = append(pems, b)
		}
		cert, err := oidcrp.ParseClientCertificate(pems...)
		if err != nil {
			return nil, fmt.Errorf("the Entra ID certificate %s: %w", c.CertificateFile, err)
		}
		app.Certificate = cert
	}
	if err := app.Check(); err != nil {
		return nil, fmt.Errorf("the provider's Entra ID application: %w", err)
	}
	return app, nil
}

// entraLogAttrs describe the application for the start-up log line: its
// ID, authority and kind of credential, never the credential.
func entraLogAttrs(app *oidcrp.EntraApp) []any {
	if app == nil {
		return []any{"entra_app", "none"}
	}
	credential := "client secret"
	if app.Certificate != nil {
		credential = "certificate " + app.Certificate.Thumbprint()
	}
	return []any{"entra_app", app.ClientID, "entra_authority", app.AuthorityURL(), "entra_credential", credential}
}
