//go:build linux

package gatehouseproc

import "syscall"

// ProcAttr has the kernel stop a server the test started when the test
// binary dies before its cleanups run (a timeout, a kill).
func ProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
