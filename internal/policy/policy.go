// Package policy holds Gatehouse's access decisions as pure functions over
// values: who must sign in how, and who may administer what. It does no I/O;
// callers fetch the facts and act on the answer, so every rule is in one
// place and tested with tables.
package policy
