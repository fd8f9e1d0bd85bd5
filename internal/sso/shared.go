package sso

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"gatehouse"
)

// ConfigOfAnswer returns the configuration an answer arriving at a
// redirect URI that several configurations share (the provider's Entra ID
// application's) is for: the one whose flow the answer's state names. It
// trusts nothing else of the answer; the callback then checks it as at the
// configuration's own redirect URI: the flow bound to this browser and
// unanswered, the IdP's issuer and the token's tenant. A state that names
// no flow is ErrFlowGone: there is no configuration to refuse it for.
func (f *Flow) ConfigOfAnswer(ctx context.Context, protocol gatehouse.Protocol, answer url.Values) (gatehouse.SSOConfig, error) {
	conn := f.connector(protocol)
	if conn == nil {
		return gatehouse.SSOConfig{}, ErrUnknownConfig
	}
	key, _ := conn.Correlate(answer)
	if key == "" || len(key) > maxFlowKey {
		return gatehouse.SSOConfig{}, ErrFlowGone
	}
	fl, err := f.cfg.Store.SSOFlow(ctx, key)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.SSOConfig{}, ErrFlowGone
	}
	if err != nil {
		return gatehouse.SSOConfig{}, fmt.Errorf("sso: callback: %w", err)
	}
	c, err := f.cfg.Store.SSOConfig(ctx, fl.ConfigID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.SSOConfig{}, ErrFlowGone
	}
	if err != nil {
		return gatehouse.SSOConfig{}, fmt.Errorf("sso: callback: %w", err)
	}
	if c.Protocol != protocol {
		return gatehouse.SSOConfig{}, ErrUnknownConfig
	}
	return c, nil
}
