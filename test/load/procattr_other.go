//go:build !linux

package main

import "syscall"

// procAttr: only Linux ties a child's life to its parent's; elsewhere the
// tool's own cleanup stops its children (and /proc figures are missing).
func procAttr() *syscall.SysProcAttr { return nil }
