package scim

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Filters (RFC 7644 section 3.4.2.2): parsed into an Expr, evaluated over
// a resource as JSON (map[string]any), so a filter means the same whatever
// stores the resource. Attribute names are case-insensitive; string
// comparisons are too, except for caseExact attributes (id, externalId).

// maxFilterLength and maxFilterDepth bound what a filter may cost to parse.
const (
	maxFilterLength = 4096
	maxFilterDepth  = 32
)

// Expr is a parsed filter.
type Expr interface{ expr() }

// Compare is `attr op value`, or `attr pr` (Value nil).
type Compare struct {
	Path  AttrPath
	Op    string // eq ne co sw ew gt ge lt le pr, lower-case
	Value any    // string, float64, bool or nil
}

// Logical is `left and right` or `left or right`.
type Logical struct {
	Op          string // and, or
	Left, Right Expr
}

// Not is `not (x)`.
type Not struct{ X Expr }

// ValuePath is `attr[filter]`: some value of the multi-valued attr
// matches the filter.
type ValuePath struct {
	Path   AttrPath
	Filter Expr
}

func (Compare) expr()   {}
func (Logical) expr()   {}
func (Not) expr()       {}
func (ValuePath) expr() {}

// AttrPath is an attribute reference: an optional schema URN, the
// attribute and an optional sub-attribute.
type AttrPath struct {
	URN, Attr, Sub string
}

func (p AttrPath) String() string {
	s := p.Attr
	if p.Sub != "" {
		s += "." + p.Sub
	}
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	return s
}

// ParseAttrPath reads `[urn:...:]attr[.sub]`.
func ParseAttrPath(s string) (AttrPath, bool) {
	var p AttrPath
	if len(s) > 4 && strings.EqualFold(s[:4], "urn:") {
		i := strings.LastIndexByte(s, ':')
		p.URN, s = s[:i], s[i+1:]
		if s == "" {
			// The URN alone: the extension as a whole.
			return AttrPath{Attr: p.URN}, true
		}
	}
	attr, sub, _ := strings.Cut(s, ".")
	if !validName(attr) || (sub != "" && !validName(sub)) || strings.Contains(sub, ".") {
		return AttrPath{}, false
	}
	p.Attr, p.Sub = attr, sub
	return p, true
}

// validName is RFC 7643's ATTRNAME: ALPHA *(nameChar), with $ref allowed.
func validName(s string) bool {
	if s == "$ref" {
		return true
	}
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// ParseFilter parses a filter; a bad one is a 400 invalidFilter.
func ParseFilter(s string) (Expr, error) {
	if len(s) > maxFilterLength {
		return nil, badRequest(TypeInvalidFilter, "the filter is longer than %d bytes", maxFilterLength)
	}
	if !utf8.ValidString(s) {
		return nil, badRequest(TypeInvalidFilter, "the filter is not UTF-8")
	}
	p := &parser{src: s}
	if err := p.lex(); err != nil {
		return nil, err
	}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, badRequest(TypeInvalidFilter, "unexpected %q in the filter", p.toks[p.pos].text)
	}
	return e, nil
}

type tokKind int

const (
	tokWord tokKind = iota
	tokString
	tokLParen
	tokRParen
	tokLBracket
	tokRBracket
)

type token struct {
	kind tokKind
	text string // a word, or a string's decoded value
}

type parser struct {
	src  string
	toks []token
	pos  int
}

func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			p.toks = append(p.toks, token{kind: tokLParen, text: "("})
			i++
		case c == ')':
			p.toks = append(p.toks, token{kind: tokRParen, text: ")"})
			i++
		case c == '[':
			p.toks = append(p.toks, token{kind: tokLBracket, text: "["})
			i++
		case c == ']':
			p.toks = append(p.toks, token{kind: tokRBracket, text: "]"})
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return badRequest(TypeInvalidFilter, "a string in the filter is not closed")
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return badRequest(TypeInvalidFilter, "a string in the filter is not a valid JSON string")
			}
			p.toks = append(p.toks, token{kind: tokString, text: v})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()[]\"", rune(s[j])) {
				j++
			}
			p.toks = append(p.toks, token{kind: tokWord, text: s[i:j]})
			i = j
		}
	}
	return nil
}

func (p *parser) peekWord(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == tokWord && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *parser) or(depth int) (Expr, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		left = Logical{Op: "or", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) and(depth int) (Expr, error) {
	left, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		right, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		left = Logical{Op: "and", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) unary(depth int) (Expr, error) {
	if depth > maxFilterDepth {
		return nil, badRequest(TypeInvalidFilter, "the filter nests deeper than %d", maxFilterDepth)
	}
	if p.pos >= len(p.toks) {
		return nil, badRequest(TypeInvalidFilter, "the filter ends too early")
	}
	if p.peekWord("not") && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tokLParen {
		p.pos++
		x, err := p.group(depth + 1)
		if err != nil {
			return nil, err
		}
		return Not{X: x}, nil
	}
	if p.toks[p.pos].kind == tokLParen {
		return p.group(depth + 1)
	}
	return p.comparison(depth)
}

// group reads `( filter )`.
func (p *parser) group(depth int) (Expr, error) {
	p.pos++ // (
	x, err := p.or(depth)
	if err != nil {
		return nil, err
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != tokRParen {
		return nil, badRequest(TypeInvalidFilter, "a parenthesis in the filter is not closed")
	}
	p.pos++
	return x, nil
}

var operators = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "ge": true, "lt": true, "le": true}

func (p *parser) comparison(depth int) (Expr, error) {
	t := p.toks[p.pos]
	if t.kind != tokWord {
		return nil, badRequest(TypeInvalidFilter, "expected an attribute in the filter, found %q", t.text)
	}
	path, ok := ParseAttrPath(t.text)
	if !ok {
		return nil, badRequest(TypeInvalidFilter, "%q is not an attribute path", t.text)
	}
	p.pos++
	if p.pos < len(p.toks) && p.toks[p.pos].kind == tokLBracket {
		if path.Sub != "" {
			return nil, badRequest(TypeInvalidFilter, "a value filter follows an attribute, not a sub-attribute")
		}
		p.pos++
		inner, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != tokRBracket {
			return nil, badRequest(TypeInvalidFilter, "a bracket in the filter is not closed")
		}
		p.pos++
		return ValuePath{Path: path, Filter: inner}, nil
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != tokWord {
		return nil, badRequest(TypeInvalidFilter, "expected an operator after %q", t.text)
	}
	op := strings.ToLower(p.toks[p.pos].text)
	p.pos++
	if op == "pr" {
		return Compare{Path: path, Op: op}, nil
	}
	if !operators[op] {
		return nil, badRequest(TypeInvalidFilter, "%q is not a filter operator", op)
	}
	if p.pos >= len(p.toks) {
		return nil, badRequest(TypeInvalidFilter, "the filter ends before the value of %q", op)
	}
	v := p.toks[p.pos]
	p.pos++
	var value any
	switch {
	case v.kind == tokString:
		value = v.text
	case v.kind == tokWord && v.text == "true":
		value = true
	case v.kind == tokWord && v.text == "false":
		value = false
	case v.kind == tokWord && v.text == "null":
		value = nil
	case v.kind == tokWord:
		f, err := strconv.ParseFloat(v.text, 64)
		if err != nil || strings.ContainsAny(v.text, "xXpP_") || strings.EqualFold(v.text, "inf") || strings.EqualFold(v.text, "nan") ||
			strings.EqualFold(v.text, "+inf") || strings.EqualFold(v.text, "-inf") || strings.EqualFold(v.text, "infinity") {
			return nil, badRequest(TypeInvalidFilter, "%q is not a filter value (strings are quoted)", v.text)
		}
		value = f
	default:
		return nil, badRequest(TypeInvalidFilter, "expected a value after %q", op)
	}
	if _, isBool := value.(bool); isBool && op != "eq" && op != "ne" {
		return nil, badRequest(TypeInvalidFilter, "a boolean compares only with eq or ne")
	}
	if value == nil && op != "eq" && op != "ne" {
		return nil, badRequest(TypeInvalidFilter, "null compares only with eq or ne")
	}
	return Compare{Path: path, Op: op, Value: value}, nil
}

// Match reports whether resource (a SCIM resource as JSON) matches e. s
// is the resource's schema, which says which attributes are caseExact.
func Match(e Expr, resource map[string]any, s *Schema) bool {
	return match(e, resource, s, "")
}

// match evaluates e over obj; within is the attribute obj is a value of,
// inside a value filter ("" at the top).
func match(e Expr, obj map[string]any, s *Schema, within string) bool {
	switch e := e.(type) {
	case Logical:
		if e.Op == "and" {
			return match(e.Left, obj, s, within) && match(e.Right, obj, s, within)
		}
		return match(e.Left, obj, s, within) || match(e.Right, obj, s, within)
	case Not:
		return !match(e.X, obj, s, within)
	case ValuePath:
		for _, v := range asList(lookup(obj, s, e.Path.URN, e.Path.Attr)) {
			if m, ok := v.(map[string]any); ok && match(e.Filter, m, s, e.Path.Attr) {
				return true
			}
		}
		return false
	case Compare:
		var values []any
		attr, sub := e.Path.Attr, e.Path.Sub
		top := lookup(obj, s, e.Path.URN, attr)
		if within != "" {
			attr, sub = within, e.Path.Attr
			top = getFold(obj, e.Path.Attr)
			values = asList(top)
		} else {
			for _, v := range asList(top) {
				if m, ok := v.(map[string]any); ok {
					// A complex attribute without a sub-attribute compares its value.
					name := sub
					if name == "" {
						name = "value"
					}
					values = append(values, asList(getFold(m, name))...)
				} else if sub == "" {
					values = append(values, v)
				}
			}
		}
		exact := s.caseExact(attr, sub)
		if e.Op == "pr" {
			for _, v := range values {
				if present(v) {
					return true
				}
			}
			return false
		}
		if e.Op == "ne" {
			return !anyCompare(values, "eq", e.Value, exact)
		}
		return anyCompare(values, e.Op, e.Value, exact)
	}
	return false
}

func anyCompare(values []any, op string, want any, exact bool) bool {
	if want == nil {
		return !slicesAny(values, present)
	}
	for _, v := range values {
		if compare(v, op, want, exact) {
			return true
		}
	}
	return false
}

func slicesAny(vs []any, f func(any) bool) bool {
	for _, v := range vs {
		if f(v) {
			return true
		}
	}
	return false
}

func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

func compare(v any, op string, want any, exact bool) bool {
	switch w := want.(type) {
	case bool:
		b, ok := v.(bool)
		return ok && op == "eq" && b == w
	case float64:
		f, ok := v.(float64)
		if !ok {
			return false
		}
		switch op {
		case "eq":
			return f == w
		case "gt":
			return f > w
		case "ge":
			return f >= w
		case "lt":
			return f < w
		case "le":
			return f <= w
		}
		return false
	case string:
		got, ok := v.(string)
		if !ok {
			return false
		}
		if !exact {
			got, w = strings.ToLower(got), strings.ToLower(w)
		}
		switch op {
		case "eq":
			return got == w
		case "co":
			return strings.Contains(got, w)
		case "sw":
			return strings.HasPrefix(got, w)
		case "ew":
			return strings.HasSuffix(got, w)
		case "gt":
			return got > w
		case "ge":
			return got >= w
		case "lt":
			return got < w
		case "le":
			return got <= w
		}
	}
	return false
}

func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

// getFold returns obj's member named name, case-insensitively.
func getFold(obj map[string]any, name string) any {
	if v, ok := obj[name]; ok {
		return v
	}
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// lookup returns attribute attr of the resource obj, in the extension urn
// when urn names one of s's extensions.
func lookup(obj map[string]any, s *Schema, urn, attr string) any {
	if urn != "" && s != nil && !strings.EqualFold(urn, s.ID) {
		ext, _ := getFold(obj, urn).(map[string]any)
		if ext == nil {
			return nil
		}
		return getFold(ext, attr)
	}
	return getFold(obj, attr)
}
