-- Email domains an account claims (issue 15): verified by a DNS TXT record
-- under a name Gatehouse gives, after which an unknown email at the
-- domain goes to the account's SSO, and just-in-time seats may be made
-- for it. A domain is verified for one account only, whatever races.
CREATE TABLE account_domains (
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  domain TEXT NOT NULL,
  challenge TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  verified_at BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, domain)
);
CREATE UNIQUE INDEX account_domains_verified ON account_domains(domain) WHERE verified_at > 0;
