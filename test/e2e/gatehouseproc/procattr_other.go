//go:build !linux

package gatehouseproc

import "syscall"

// ProcAttr: only Linux can tie a child's life to its parent's; the test's
// cleanup stops the server elsewhere.
func ProcAttr() *syscall.SysProcAttr { return nil }
