package htmlform

import (
	"net/http"
	"testing"
)

func TestForms(t *testing.T) {
	body := `<form action="/x" method="get"><input name="a" value='1 &amp; 2'><input type="checkbox" name="c" value="on">
<input type="checkbox" name="d" value="yes" checked><input type="submit" name="s" value="Go"><input type="hidden" id="noname" value="z"></form>`
	for _, def := range []string{http.MethodPost, http.MethodGet} {
		fs := Dialect{DefaultMethod: def}.Forms(body)
		if len(fs) != 1 || fs[0].Method != http.MethodGet || fs[0].Action != "/x" || fs[0].Fields.Encode() != "a=1+%26+2&d=yes" {
			t.Fatalf("forms: %+v", fs[0])
		}
	}
}

func TestDefaultMethod(t *testing.T) {
	body := `<form id="f" action="/y"><input name="a"></form><form method="POST"><input name="b"></form>`
	for def, want := range map[string][2]string{
		http.MethodPost: {http.MethodPost, http.MethodPost},
		http.MethodGet:  {http.MethodGet, http.MethodPost},
	} {
		d := Dialect{DefaultMethod: def}
		if f := d.FormID(body, "f"); f == nil || f.Method != want[0] {
			t.Errorf("default %s: form without method: %+v", def, f)
		}
		if f := d.FormWith(body, "b"); f == nil || f.Method != want[1] {
			t.Errorf("default %s: method=POST: %+v", def, f)
		}
	}
}

func TestText(t *testing.T) {
	s := "<p>It&amp;#039;s\n <b>here</b></p>"
	if got := (Dialect{Unescapes: 1}).Text(s); got != "It&#039;s here" {
		t.Errorf("once: %q", got)
	}
	if got := (Dialect{Unescapes: 2}).Text(s); got != "It's here" {
		t.Errorf("twice: %q", got)
	}
}
