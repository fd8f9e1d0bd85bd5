//go:build linux

package e2eoidc

import "syscall"

// serverProcAttr has the kernel stop a server the test started when the
// test binary dies before its cleanups run (a timeout, a kill).
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
