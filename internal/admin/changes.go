package admin

import "strings"

// changes names the fields a change alters, for its audit event.
type changes struct {
	fields []string
	values map[string]string
}

// note records field as changed when it differs.
func (c *changes) note(field string, differs bool) {
	if differs {
		c.fields = append(c.fields, field)
	}
}

// noteValue records field as changed when it differs, with its new value
// as a detail of the event.
func (c *changes) noteValue(field string, differs bool, value string) {
	if !differs {
		return
	}
	c.note(field, true)
	if c.values == nil {
		c.values = map[string]string{}
	}
	c.values[field] = value
}

// none reports whether nothing changed.
func (c *changes) none() bool { return len(c.fields) == 0 }

// details are the audit event's details: the new values noted, and
// "changed", the fields that changed in the order they were noted.
func (c *changes) details() map[string]string {
	d := map[string]string{"changed": strings.Join(c.fields, ",")}
	for k, v := range c.values {
		d[k] = v
	}
	return d
}
