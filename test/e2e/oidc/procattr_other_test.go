//go:build !linux

package e2eoidc

import "syscall"

// serverProcAttr: only Linux can tie a child's life to its parent's; the
// test's cleanup stops the server elsewhere.
func serverProcAttr() *syscall.SysProcAttr { return nil }
