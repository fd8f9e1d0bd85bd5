package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"gatehouse"
)

// layoutFS holds the templates every page is parsed with: the layout (a
// whole page, or its content for the page's dialog) and the parts it
// shows.
//
//go:embed layout
var layoutFS embed.FS

// templateFS holds this package's own page, the error page.
//
//go:embed templates
var templateFS embed.FS

// View is what the layout and the error page show. A package's page data
// embeds it and adds what its own pages show.
type View struct {
	Title  string
	Error  string // shown in role="alert"
	Notice string
	// Nav is the administration navigation: pages that have one get the
	// wide layout and the htmx and admin scripts with it.
	Nav *AdminNav
	// Scripts gives a page without Nav the wide layout and those scripts
	// too: a setup link's wizard pages, whose holder administers nothing.
	Scripts bool
	// Message is the text of an error page; Reference the audit event a
	// person can quote; Back and BackText a way on other than the sign-in
	// page (admin pages lead back with Back too).
	Message   string
	Reference string
	Back      string
	BackText  string
}

// Pages are one package's page templates, each parsed with the shared
// ones, by file name ("email.html").
type Pages struct {
	byName map[string]*template.Template
	log    *slog.Logger
}

// ParsePages parses the pages of a package, the *.html files in directory
// dir of its embedded fsys: each with the layout and its parts, and with
// the package's own parts (the files named *_parts.html, which are no
// pages). funcs are the functions its templates call. The templates are
// embedded, so an error is a build mistake, and it panics.
func (s *Site) ParsePages(fsys fs.FS, dir string, funcs template.FuncMap) *Pages {
	templates, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	names, err := fs.Glob(templates, "*.html")
	if err != nil {
		panic(err)
	}
	var pages, parts []string
	for _, n := range names {
		if strings.HasSuffix(n, "_parts.html") {
			parts = append(parts, n)
		} else {
			pages = append(pages, n)
		}
	}
	p := &Pages{byName: map[string]*template.Template{}, log: s.log}
	for _, n := range pages {
		t := template.Must(template.New(n).Funcs(funcs).ParseFS(layoutFS, "layout/*.html"))
		p.byName[n] = template.Must(t.ParseFS(templates, append(slices.Clone(parts), n)...))
	}
	return p
}

// Render writes a page; it renders into a buffer first so a template error
// becomes a clean 500, not half a page.
func (p *Pages) Render(w http.ResponseWriter, status int, page string, data any) {
	p.RenderAs(w, status, page, "layout", data)
}

// RenderAs writes template name of page: "layout" for a whole page,
// "dialog" for its content in the page's dialog, or a part an htmx request
// swaps in.
func (p *Pages) RenderAs(w http.ResponseWriter, status int, page, name string, data any) {
	var buf bytes.Buffer
	if err := p.byName[page].ExecuteTemplate(&buf, name, data); err != nil {
		p.log.Error("render page", "page", page, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// ErrorPage answers with the error page showing v.
func (s *Site) ErrorPage(w http.ResponseWriter, status int, v View) {
	s.errorPage.Render(w, status, "error.html", v)
}

// Fail answers an error no page handles itself: a 503 when the database
// is unavailable, a 500 otherwise. The detail goes to the log only.
func (s *Site) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, gatehouse.ErrUnavailable) {
		s.log.WarnContext(r.Context(), "database unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "30")
		s.ErrorPage(w, http.StatusServiceUnavailable, View{
			Title:   "Temporarily unavailable",
			Message: "Sign-in is unavailable for a moment. Please try again in a minute.",
		})
		return
	}
	s.log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	s.ErrorPage(w, http.StatusInternalServerError, View{
		Title:   "Something went wrong",
		Message: "Something went wrong on our side. Please try again.",
	})
}

// NotFound answers a path with no page, or a page about nothing there.
func (s *Site) NotFound(w http.ResponseWriter, r *http.Request) {
	s.ErrorPage(w, http.StatusNotFound, View{
		Title:   "Page not found",
		Message: "There is no page at this address.",
	})
}
