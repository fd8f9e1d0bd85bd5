package main

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// tableHeader is the Markdown table's header; the test checks for it.
const tableHeader = "| what | sign-ins/s | p50 | p99 | server CPU per sign-in | peak RSS | load tool CPU per sign-in |"

// markdown is the final table: one row per target, each figure as the
// range over the rounds, with what was measured, when, and on what.
func markdown(o options, dbLabel string, results [][]roundResult) string {
	var b strings.Builder
	procs := "1 process"
	if o.procs > 1 {
		procs = strconv.Itoa(o.procs) + " processes"
	}
	fmt.Fprintf(&b, "Measured %s with %s on %d cores (%s/%s): `-protocol %s`, %d concurrent clients, %d rounds of %s, %s, %s.\n\n",
		time.Now().Format("2006-01-02"), runtime.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		o.protocol, o.clients, o.rounds, o.duration, dbLabel, procs)
	b.WriteString(tableHeader + "\n|---|---|---|---|---|---|---|\n")
	for _, rounds := range results {
		if len(rounds) == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", rounds[0].what,
			span(rounds, func(r roundResult) string { return fmtRate(r.rate()) }),
			span(rounds, func(r roundResult) string { return fmtDur(r.percentile(50)) }),
			span(rounds, func(r roundResult) string { return fmtDur(r.percentile(99)) }),
			span(rounds, func(r roundResult) string { return fmtDur(r.cpuPerSignIn()) }),
			span(rounds, func(r roundResult) string { return fmtBytes(r.peakRSS) }),
			span(rounds, func(r roundResult) string { return fmtDur(r.perSignIn(r.toolCPU)) }))
		if rounds[0].aside > 0 {
			b.WriteString(withoutAside(rounds, o.clients))
		}
		if rounds[0].dbCPU > 0 {
			fmt.Fprintf(&b, "| %s: PostgreSQL's own processes on this machine | | | | %s | | |\n", rounds[0].what,
				span(rounds, func(r roundResult) string { return fmtDur(r.perSignIn(r.dbCPU)) }))
		}
	}
	return b.String()
}

// withoutAside is the row of a target whose sign-ins wait on the OIDC
// provider, with the provider's own time taken out: each client waited
// for its sign-ins' provider time, so the clients' time without it is the
// round's time less the provider's time shared over the clients. Server
// CPU excludes the provider anyway (it runs in the tool's process).
func withoutAside(rounds []roundResult, clients int) string {
	rate := func(r roundResult) string {
		wall := r.elapsed - r.aside/time.Duration(clients)
		if wall <= 0 {
			return "—"
		}
		return fmtRate(float64(r.ok) / wall.Seconds())
	}
	perSignIn := func(r roundResult) string {
		if r.ok == 0 {
			return "—"
		}
		return fmtDur(r.aside / time.Duration(r.ok))
	}
	return fmt.Sprintf("| %s, excluding the provider's own time (%s per sign-in) | %s | | | %s | | |\n",
		rounds[0].what, span(rounds, perSignIn), span(rounds, rate), span(rounds, func(r roundResult) string { return fmtDur(r.cpuPerSignIn()) }))
}

// againstLibrary compares Gatehouse (results[0]) with gosaml2 alone round
// by round, and says what three times gosaml2 alone (issue 13's SAML
// target) would leave of the machine's cores per sign-in, beside what
// Gatehouse's server and the load tool's clients used: everything on the
// machine shares them. Empty without the library baseline.
func againstLibrary(results [][]roundResult, cores int) string {
	if len(results) == 0 {
		return ""
	}
	var lib []roundResult
	for _, rounds := range results[1:] {
		if len(rounds) > 0 && rounds[0].what == baselineNames[baselineLibrary] {
			lib = rounds
		}
	}
	n := min(len(lib), len(results[0]))
	if n == 0 {
		return ""
	}
	type pair struct{ g, l roundResult }
	pairs := make([]pair, 0, n)
	for i := range n {
		if lib[i].rate() > 0 && results[0][i].rate() > 0 {
			pairs = append(pairs, pair{results[0][i], lib[i]})
		}
	}
	if len(pairs) == 0 {
		return ""
	}
	ratio := func(p pair) string { return strconv.FormatFloat(p.g.rate()/p.l.rate(), 'f', 2, 64) + "×" }
	triple := func(p pair) string { return fmtRate(3*p.l.rate()) + "/s" }
	budget := func(p pair) string {
		return fmtDur(time.Duration(float64(cores) * float64(time.Second) / (3 * p.l.rate())))
	}
	var rs, ts, bs, server, tool []string
	for _, p := range pairs {
		rs, ts, bs = append(rs, ratio(p)), append(ts, triple(p)), append(bs, budget(p))
		server = append(server, fmtDur(p.g.cpuPerSignIn()))
		tool = append(tool, fmtDur(p.g.perSignIn(p.g.toolCPU)))
	}
	j := func(ss []string) string { return strings.Join(ss, ", ") }
	return fmt.Sprintf("Gatehouse against gosaml2 alone, round by round: %s. Three times gosaml2 alone would be %s: "+
		"on %d cores, %s of CPU per sign-in for everything on the machine (server, load tool, kernel); "+
		"Gatehouse's server used %s and the load tool's clients %s.",
		j(rs), j(ts), cores, j(bs), j(server), j(tool))
}

// sideBySide compares the first Gatehouse measured (first) with the
// second (second, -beside) round by round: in each round the two ran one
// right after the other on the same machine, so the share is of figures
// measured under the same conditions. Issue 13's targets: PostgreSQL at
// 70% of SQLite, and two processes beyond one.
func sideBySide(first, second []roundResult) string {
	var shares, rates []string
	for i := range min(len(first), len(second)) {
		if second[i].rate() <= 0 {
			continue
		}
		shares = append(shares, strconv.FormatFloat(100*first[i].rate()/second[i].rate(), 'f', 0, 64)+"%")
		rates = append(rates, fmtRate(first[i].rate())+" against "+fmtRate(second[i].rate()))
	}
	if len(first) == 0 || len(second) == 0 {
		return ""
	}
	if len(shares) == 0 {
		return fmt.Sprintf("%s against %s: no round of the second signed anyone in.", first[0].what, second[0].what)
	}
	return fmt.Sprintf("%s against %s, round by round (each round ran both, one right after the other): %s (%s sign-ins a second).",
		first[0].what, second[0].what, strings.Join(shares, ", "), strings.Join(rates, "; "))
}

// span is a figure over the rounds: "a–b" from the lowest to the highest,
// or one value when they print alike.
func span(rounds []roundResult, f func(roundResult) string) string {
	type v struct {
		s string
		n float64
	}
	var vs []v
	for _, r := range rounds {
		s := f(r)
		n, _ := strconv.ParseFloat(strings.NewReplacer(",", "", " ms", "", " µs", "e-3", " s", "e3", " MB", "").Replace(s), 64)
		vs = append(vs, v{s, n})
	}
	lo := slices.MinFunc(vs, func(a, b v) int { return cmpFloat(a.n, b.n) })
	hi := slices.MaxFunc(vs, func(a, b v) int { return cmpFloat(a.n, b.n) })
	if lo.s == hi.s {
		return lo.s
	}
	return strings.TrimSuffix(lo.s, unit(lo.s)) + "–" + hi.s
}

// unit is a formatted figure's unit suffix, dropped from the low end of a
// range when both ends share it ("10–14 ms").
func unit(s string) string {
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return s[i:]
	}
	return ""
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fmtRate prints a rate with thousands separators, one decimal below 10.
func fmtRate(r float64) string {
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(r+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fmtDur prints a duration in ms with two or three significant digits.
func fmtDur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d == 0:
		return "0 ms"
	case ms < 1:
		return strconv.FormatFloat(ms, 'f', 2, 64) + " ms"
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
	case ms < 10000:
		return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

func fmtBytes(n int64) string {
	if n <= 0 {
		return "—"
	}
	return strconv.FormatInt((n+(1<<19))>>20, 10) + " MB"
}
