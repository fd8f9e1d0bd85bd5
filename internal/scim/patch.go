package scim

import (
	"reflect"
	"strings"
)

// PATCH (RFC 7644 section 3.5.2) as a pure function over a resource as
// JSON: ApplyPatch changes the map in place, so what the handlers store is
// what any other applier of the same operations to the same JSON would
// make (test/e2e/scim compares it with npm scim-patch). It takes the
// shapes Entra ID and Okta send: operation names in any case, a path-less
// value whose keys are paths ("name.givenName", an extension's URN-named
// attributes), booleans as the strings "True" and "False", a complex
// value given as its value alone (Entra's manager), `members` removed by a
// value list instead of a filter, and a filtered path that matches no
// value yet (`emails[type eq "work"].value`), which adds one.

// PatchOp is one operation of a PatchOp request.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// PatchRequest is a PatchOp request body.
type PatchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []PatchOp `json:"Operations"`
}

// maxPatchOps bounds the operations of one request.
const maxPatchOps = 1000

// patchPath is a parsed PATCH path: an attribute, an optional value
// filter and an optional sub-attribute after it.
type patchPath struct {
	AttrPath
	Filter Expr
}

func parsePatchPath(s string) (patchPath, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '[')
	if open < 0 {
		p, ok := ParseAttrPath(s)
		if !ok {
			return patchPath{}, badRequest(TypeInvalidPath, "%q is not an attribute path", s)
		}
		return patchPath{AttrPath: p}, nil
	}
	closeAt := strings.LastIndexByte(s, ']')
	if closeAt < open {
		return patchPath{}, badRequest(TypeInvalidPath, "%q has an unclosed value filter", s)
	}
	p, ok := ParseAttrPath(s[:open])
	if !ok || p.Sub != "" {
		return patchPath{}, badRequest(TypeInvalidPath, "%q is not an attribute path", s)
	}
	f, err := ParseFilter(s[open+1 : closeAt])
	if err != nil {
		return patchPath{}, badRequest(TypeInvalidPath, "the value filter of %q: %s", s, err.(*Error).Detail)
	}
	rest := s[closeAt+1:]
	if rest != "" {
		sub, ok := strings.CutPrefix(rest, ".")
		if !ok || !validName(sub) {
			return patchPath{}, badRequest(TypeInvalidPath, "%q: only .subAttribute may follow a value filter", s)
		}
		p.Sub = sub
	}
	return patchPath{AttrPath: p, Filter: f}, nil
}

// ApplyPatch applies ops to res, a resource of schema s, in order; the
// first that fails stops it with a 400 naming why (res is then partly
// changed: callers apply to a copy).
func ApplyPatch(res map[string]any, s *Schema, ops []PatchOp) error {
	if len(ops) == 0 {
		return badRequest(TypeInvalidValue, "a PATCH needs at least one operation in Operations")
	}
	if len(ops) > maxPatchOps {
		return badRequest(TypeTooMany, "a PATCH may have at most %d operations", maxPatchOps)
	}
	for i, op := range ops {
		name := strings.ToLower(strings.TrimSpace(op.Op))
		if name != "add" && name != "replace" && name != "remove" {
			return badRequest(TypeInvalidSyntax, "Operations[%d]: op must be add, replace or remove, not %q", i, op.Op)
		}
		if err := applyOp(res, s, name, op.Path, op.Value); err != nil {
			if e, ok := err.(*Error); ok {
				e.Detail = "Operations[" + itoa(i) + "]: " + e.Detail
			}
			return err
		}
	}
	return nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func applyOp(res map[string]any, s *Schema, op, path string, value any) error {
	if strings.TrimSpace(path) == "" {
		if op == "remove" {
			return badRequest(TypeNoTarget, "remove needs a path")
		}
		obj, ok := value.(map[string]any)
		if !ok {
			return badRequest(TypeInvalidValue, "%s without a path needs an object value", op)
		}
		for k, v := range obj {
			switch {
			case strings.EqualFold(k, "schemas"), strings.EqualFold(k, "id"), strings.EqualFold(k, "meta"):
				continue // what the server owns is not the client's to change; sent back as read, it is ignored
			case s.Extension(k) != nil:
				ext, ok := v.(map[string]any)
				if !ok {
					return badRequest(TypeInvalidValue, "%s must be an object", k)
				}
				for ek, ev := range ext {
					if err := applyOp(res, s, op, s.Extension(k).ID+":"+ek, ev); err != nil {
						return err
					}
				}
			default:
				if err := applyPathOp(res, s, op, k, v, true); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return applyPathOp(res, s, op, path, value, false)
}

// applyPathOp applies op at path. whole is true for a path-less
// operation's member, whose value replaces a complex attribute as a whole
// (as scim-patch and the IdPs read it), where an operation with that path
// replaces only the sub-attributes it names (RFC 7644 section 3.5.2.3).
func applyPathOp(res map[string]any, s *Schema, op, path string, value any, whole bool) error {
	pp, err := parsePatchPath(path)
	if err != nil {
		return err
	}
	container, attrs := res, s.Attributes
	if pp.URN != "" && !strings.EqualFold(pp.URN, s.ID) {
		ext := s.Extension(pp.URN)
		if ext == nil {
			return badRequest(TypeInvalidPath, "%q is not a schema of this resource", pp.URN)
		}
		key := ext.ID
		c, _ := takeFold(res, key).(map[string]any)
		if c == nil {
			c = map[string]any{}
		}
		res[key] = c
		defer func() {
			if len(c) == 0 {
				delete(res, key)
			}
		}()
		container, attrs = c, ext.Attributes
	} else if s.Extension(pp.Attr) != nil && pp.Filter == nil {
		// The extension's URN as the path: its attributes as the value.
		if op == "remove" {
			takeFold(res, s.Extension(pp.Attr).ID)
			return nil
		}
		return applyOp(res, s, op, "", map[string]any{s.Extension(pp.Attr).ID: value})
	}
	a := find(attrs, pp.Attr)
	if a == nil {
		return badRequest(TypeInvalidPath, "%q is not an attribute of %s", pp.Attr, s.Name)
	}
	if a.Mutability == "readOnly" {
		return badRequest(TypeMutability, "%s is read-only", a.Name)
	}
	var sub *Attribute
	if pp.Sub != "" {
		if sub = find(a.SubAttributes, pp.Sub); sub == nil {
			return badRequest(TypeInvalidPath, "%q is not a sub-attribute of %s", pp.Sub, a.Name)
		}
	}
	if op != "remove" || value != nil {
		if sub != nil {
			value, err = coerce(sub, value, false)
		} else {
			value, err = coerce(a, value, pp.Filter == nil)
		}
		if err != nil {
			return err
		}
	}
	cur := takeFold(container, a.Name)
	if whole && op == "replace" && sub == nil && pp.Filter == nil && a.Type == "complex" && !a.MultiValued {
		cur = nil
	}
	next, err := change(a, sub, pp.Filter, s, op, cur, value)
	if err != nil {
		return err
	}
	if present(next) {
		container[a.Name] = next
	}
	return nil
}

// change returns attribute a's new value, cur its old one.
func change(a, sub *Attribute, filter Expr, s *Schema, op string, cur, value any) (any, error) {
	switch {
	case filter != nil:
		if !a.MultiValued || a.Type != "complex" {
			return nil, badRequest(TypeInvalidPath, "a value filter needs a multi-valued complex attribute, and %s is not one", a.Name)
		}
		list := asList(cur)
		out := make([]any, 0, len(list))
		matched := false
		for _, v := range list {
			m, ok := v.(map[string]any)
			if !ok || !match(filter, m, s, a.Name) {
				out = append(out, v)
				continue
			}
			matched = true
			switch {
			case op == "remove" && sub == nil:
				continue
			case op == "remove":
				takeFold(m, sub.Name)
			case sub != nil:
				takeFold(m, sub.Name)
				m[sub.Name] = value
			default:
				obj, ok := value.(map[string]any)
				if !ok {
					return nil, badRequest(TypeInvalidValue, "%s needs an object value", a.Name)
				}
				mergeInto(m, obj, a.SubAttributes)
			}
			if present(m) {
				out = append(out, m)
			}
		}
		if !matched && op != "remove" {
			// Entra's `emails[type eq "work"].value` for a user who has no
			// work email yet: a new value with what the filter says.
			fields, ok := eqFields(filter)
			if !ok {
				return nil, badRequest(TypeNoTarget, "no value of %s matches the filter", a.Name)
			}
			m := map[string]any{}
			for k, v := range fields {
				if sa := find(a.SubAttributes, k); sa != nil {
					k = sa.Name
				}
				m[k] = v
			}
			if sub != nil {
				m[sub.Name] = value
			} else if obj, ok := value.(map[string]any); ok {
				mergeInto(m, obj, a.SubAttributes)
			}
			out = append(out, m)
		}
		return out, nil
	case sub != nil && !a.MultiValued:
		m, _ := cur.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		takeFold(m, sub.Name)
		if op != "remove" {
			m[sub.Name] = value
		}
		return m, nil
	case sub != nil:
		list := asList(cur)
		for _, v := range list {
			if m, ok := v.(map[string]any); ok {
				takeFold(m, sub.Name)
				if op != "remove" {
					m[sub.Name] = value
				}
			}
		}
		return list, nil
	case op == "remove" && a.MultiValued && value != nil:
		// Entra removes members by listing them as the value.
		gone := asList(value)
		var out []any
		for _, v := range asList(cur) {
			if !slicesAny(gone, func(g any) bool { return sameValue(g, v) }) {
				out = append(out, v)
			}
		}
		return out, nil
	case op == "remove":
		return nil, nil
	case a.MultiValued && op == "add":
		out := asList(cur)
		for _, v := range asList(value) {
			if !slicesAny(out, func(o any) bool { return sameValue(o, v) }) {
				out = append(out, v)
			}
		}
		return out, nil
	case a.MultiValued:
		return asList(value), nil
	case a.Type == "complex":
		m, _ := cur.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		obj, ok := value.(map[string]any)
		if !ok {
			return nil, badRequest(TypeInvalidValue, "%s needs an object value", a.Name)
		}
		mergeInto(m, obj, a.SubAttributes)
		return m, nil
	}
	return value, nil
}

// mergeInto sets obj's members on m, under their schema names.
func mergeInto(m, obj map[string]any, subs []*Attribute) {
	for k, v := range obj {
		if sa := find(subs, k); sa != nil {
			k = sa.Name
		}
		takeFold(m, k)
		if v != nil {
			m[k] = v
		}
	}
}

// sameValue reports whether two values of a multi-valued attribute are
// the same one: complex values by their value, others as they are.
func sameValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		av, bv := getFold(am, "value"), getFold(bm, "value")
		if av != nil && bv != nil {
			return reflect.DeepEqual(av, bv)
		}
	}
	return reflect.DeepEqual(a, b)
}

// eqFields returns the attribute-value pairs of a filter made only of
// `attr eq value` joined by and.
func eqFields(e Expr) (map[string]any, bool) {
	out := map[string]any{}
	var walk func(Expr) bool
	walk = func(e Expr) bool {
		switch e := e.(type) {
		case Logical:
			return e.Op == "and" && walk(e.Left) && walk(e.Right)
		case Compare:
			if e.Op != "eq" || e.Path.Sub != "" || e.Path.URN != "" || e.Value == nil {
				return false
			}
			out[e.Path.Attr] = e.Value
			return true
		}
		return false
	}
	return out, walk(e)
}

// takeFold removes and returns obj's member named name, case-insensitively.
func takeFold(obj map[string]any, name string) any {
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			delete(obj, k)
			return v
		}
	}
	return nil
}

// coerce checks value against attribute a and converts what the IdPs send
// loosely: "True"/"False" for booleans, a bare value for a complex
// attribute that has a value sub-attribute. whole is true when value is the
// whole attribute (a list for a multi-valued one), false when it is one of
// its values.
func coerce(a *Attribute, value any, whole bool) (any, error) {
	if value == nil {
		return nil, nil
	}
	if a.MultiValued && whole {
		list := asList(value)
		out := make([]any, 0, len(list))
		for _, v := range list {
			c, err := coerce(a, v, false)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	}
	switch a.Type {
	case "boolean":
		switch v := value.(type) {
		case bool:
			return v, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, badRequest(TypeInvalidValue, "%s must be a boolean", a.Name)
	case "complex":
		switch v := value.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, sv := range v {
				sa := find(a.SubAttributes, k)
				if sa == nil {
					return nil, badRequest(TypeInvalidValue, "%q is not a sub-attribute of %s", k, a.Name)
				}
				c, err := coerce(sa, sv, true)
				if err != nil {
					return nil, err
				}
				if c != nil {
					out[sa.Name] = c
				}
			}
			return out, nil
		case string:
			if find(a.SubAttributes, "value") != nil {
				return map[string]any{"value": v}, nil
			}
		}
		return nil, badRequest(TypeInvalidValue, "%s must be an object", a.Name)
	default:
		if _, ok := value.(string); !ok {
			return nil, badRequest(TypeInvalidValue, "%s must be a string", a.Name)
		}
		return value, nil
	}
}
