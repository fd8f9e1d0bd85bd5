-- Whether the identity provider of a federated session asserted
-- multi-factor authentication (by the connector's documented rule: SAML's
-- AuthnContextClassRef or Entra ID's authnmethodsreferences, OIDC's amr),
-- so the OpenID Provider's tokens can say so in amr and acr. 0 for
-- password sessions and for every session opened before this column.
ALTER TABLE sessions ADD COLUMN idp_mfa INTEGER NOT NULL DEFAULT 0 CHECK (idp_mfa IN (0, 1));
