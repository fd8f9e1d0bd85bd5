//go:build linux

package main

import "syscall"

// procAttr has the kernel stop a child when the tool dies before it can
// (SIGKILL, a crash): no server outlives a run.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
