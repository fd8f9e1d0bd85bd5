package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gatehouse"
)

// Email domains accounts claim and verify (issue 15).

const domainCols = `account_id, domain, challenge, created_at, verified_at`

func scanDomain(row interface{ Scan(...any) error }) (gatehouse.AccountDomain, error) {
	var (
		d        gatehouse.AccountDomain
		cat, vat int64
	)
	err := row.Scan(&d.AccountID, &d.Domain, &d.Challenge, &cat, &vat)
	d.CreatedAt, d.VerifiedAt = fromMicros(cat), fromMicros(vat)
	return d, err
}

// ClaimDomain records that account d.AccountID claims d.Domain with
// d.Challenge, not yet verified; a claim made before is returned as it is
// (its challenge kept, so a TXT record already published still counts).
func (s *Store) ClaimDomain(ctx context.Context, d *gatehouse.AccountDomain) error {
	now := s.now()
	return s.inTx(ctx, func(q querier) error {
		if err := exists(ctx, s, q, "accounts", d.AccountID, "account_id"); err != nil {
			return err
		}
		got, err := scanDomain(q.QueryRowContext(ctx, `SELECT `+domainCols+` FROM account_domains WHERE account_id = $1 AND domain = $2`, d.AccountID, d.Domain))
		if err == nil {
			*d = got
			return nil
		}
		if err := s.fail("claim domain", err); !isNotFound(err) {
			return err
		}
		_, err = q.ExecContext(ctx, `INSERT INTO account_domains(`+domainCols+`) VALUES ($1, $2, $3, $4, 0)`, d.AccountID, d.Domain, d.Challenge, micros(now))
		d.CreatedAt, d.VerifiedAt = now, time.Time{}
		return s.fail("claim domain", err)
	})
}

// AccountDomains lists an account's claimed domains.
func (s *Store) AccountDomains(ctx context.Context, accountID string) ([]gatehouse.AccountDomain, error) {
	return list(ctx, s, "account domains", scanDomain,
		`SELECT `+domainCols+` FROM account_domains WHERE account_id = $1 ORDER BY domain LIMIT 1000`, accountID)
}

// AccountDomain returns one claim.
func (s *Store) AccountDomain(ctx context.Context, accountID, domain string) (gatehouse.AccountDomain, error) {
	d, err := scanDomain(s.read.QueryRowContext(ctx, `SELECT `+domainCols+` FROM account_domains WHERE account_id = $1 AND domain = $2`, accountID, domain))
	return d, s.fail("account domain", err)
}

// MarkDomainVerified marks a claim verified at at. A domain another
// account verified first is a *gatehouse.ConflictError on "domain".
func (s *Store) MarkDomainVerified(ctx context.Context, accountID, domain string, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE account_domains SET verified_at = $3 WHERE account_id = $1 AND domain = $2 AND verified_at = 0`,
		accountID, domain, micros(at))
	if err != nil {
		err = s.fail("verify domain", err)
		if errors.Is(err, gatehouse.ErrConflict) {
			return &gatehouse.ConflictError{Field: "domain", Message: "this domain is verified for another account"}
		}
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Verified before, or not claimed: the caller read it just now.
		_, err := s.AccountDomain(ctx, accountID, domain)
		return err
	}
	return nil
}

// DeleteDomain drops an account's claim of a domain, verified or not.
func (s *Store) DeleteDomain(ctx context.Context, accountID, domain string) error {
	res, err := s.exec(ctx, `DELETE FROM account_domains WHERE account_id = $1 AND domain = $2`, accountID, domain)
	return s.expectOne("delete domain", res, err)
}

// VerifiedDomainAccount returns the account that verified domain, or
// gatehouse.ErrNotFound.
func (s *Store) VerifiedDomainAccount(ctx context.Context, domain string) (string, error) {
	var id string
	err := s.read.QueryRowContext(ctx, `SELECT account_id FROM account_domains WHERE domain = $1 AND verified_at > 0`, strings.ToLower(domain)).Scan(&id)
	return id, s.fail("verified domain", err)
}
