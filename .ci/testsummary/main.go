// Command testsummary reads `go test -json` on stdin, prints what a person
// needs (package results, the output of failed and skipped tests) and ends
// with one line: "N passed, N failed, N skipped". It exits 1 when anything
// failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	var passed, failed, skipped int
	output := map[string][]string{} // package/test → its lines
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text())
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			output[key] = append(output[key], e.Output)
			if e.Test == "" && strings.Contains(e.Output, "*** SKIPPED") {
				fmt.Print(e.Output)
			}
		case "pass", "fail", "skip":
			if e.Test == "" {
				for _, l := range output[key] {
					if strings.HasPrefix(l, "ok") || strings.HasPrefix(l, "FAIL") || strings.HasPrefix(l, "?") {
						fmt.Print(l)
					}
				}
				if e.Action == "fail" {
					failed++ // a package that fails to build or fails outside a test
				}
				delete(output, key)
				continue
			}
			switch e.Action {
			case "pass":
				passed++
			case "fail":
				failed++
				fmt.Printf("--- FAIL %s\n%s", key, strings.Join(output[key], ""))
			case "skip":
				skipped++
				for _, l := range output[key] {
					if strings.Contains(l, "SKIP") || strings.Contains(l, "skip") {
						fmt.Printf("skipped %s: %s", key, strings.TrimSpace(l)+"\n")
						break
					}
				}
			}
			delete(output, key)
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 {
		os.Exit(1)
	}
}
