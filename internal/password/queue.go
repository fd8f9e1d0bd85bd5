package password

// Running is how many hashes hold a slot now (the operator's
// gatehouse_password_hashes_running).
func (h *Hasher) Running() int { return len(h.slots) }

// Waiting is how many hashes wait for a slot now: sign-ins queued behind
// argon2 (gatehouse_password_hashes_waiting).
func (h *Hasher) Waiting() int { return int(h.waiting.Load()) }

// Capacity is how many hashes may run at once.
func (h *Hasher) Capacity() int { return cap(h.slots) }
