package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Millis is a Lever timestamp: Unix time in milliseconds. It decodes from a
// JSON integer, a numeric string (some older endpoints) or null (zero).
type Millis int64

// MillisOf converts t to Millis.
func MillisOf(t time.Time) Millis { return Millis(t.UnixMilli()) }

// Time returns the instant in UTC, or the zero time.Time for zero.
func (m Millis) Time() time.Time {
	if m == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(m)).UTC()
}

// IsZero reports whether m is unset.
func (m Millis) IsZero() bool { return m == 0 }

// UnmarshalJSON accepts 1747210897000, "1747210897000" and null.
func (m *Millis) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*m = 0
		return nil
	}
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*m = 0
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Tolerate a float without fraction such as 1.7472108970e+12.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("lever: timestamp %s is not a number of milliseconds", b)
		}
		v = int64(f)
	}
	*m = Millis(v)
	return nil
}

// Ref is a reference to another Lever object. Lever sends an id string, or,
// when the field was named in expand, the full object; Ref accepts both and
// keeps the object in Raw. null decodes to the zero Ref.
type Ref struct {
	ID string
	// Raw is the expanded object, nil when Lever sent only the id.
	Raw json.RawMessage
}

// Expanded reports whether Lever sent the full object.
func (r Ref) Expanded() bool { return len(r.Raw) > 0 }

// IsZero reports whether the reference is empty (null or absent).
func (r Ref) IsZero() bool { return r.ID == "" && len(r.Raw) == 0 }

// Decode unmarshals the expanded object into v (for example *User or
// *Stage). It fails when the reference was not expanded.
func (r Ref) Decode(v any) error {
	if !r.Expanded() {
		return fmt.Errorf("lever: reference %q was not expanded", r.ID)
	}
	return json.Unmarshal(r.Raw, v)
}

// UnmarshalJSON accepts "id", {"id": "...", ...} and null.
func (r *Ref) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*r = Ref{}
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &r.ID)
	case len(b) > 0 && b[0] == '{':
		var obj struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		r.ID = obj.ID
		r.Raw = append(json.RawMessage(nil), b...)
		return nil
	}
	return fmt.Errorf("lever: reference must be an id string or an object, got %.40s", b)
}

// MarshalJSON writes the expanded object when there is one, else the id,
// else null.
func (r Ref) MarshalJSON() ([]byte, error) {
	if r.Expanded() {
		return r.Raw, nil
	}
	if r.ID == "" {
		return []byte("null"), nil
	}
	return json.Marshal(r.ID)
}

// IDs returns the ids of refs.
func IDs(refs []Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}

// Location is a place name. Contacts send {"name": "..."}, opportunities a
// plain string; Location accepts both and always encodes as a string.
type Location struct {
	Name string
}

// UnmarshalJSON accepts "Berlin", {"name": "Berlin"} and null.
func (l *Location) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*l = Location{}
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &l.Name)
	}
	var obj struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("lever: location must be a string or {\"name\"}: %w", err)
	}
	l.Name = obj.Name
	return nil
}

// MarshalJSON writes the name as a string.
func (l Location) MarshalJSON() ([]byte, error) { return json.Marshal(l.Name) }

// Phone is a phone number; Type is one of mobile, home, work, skype, other.
type Phone struct {
	Type  string `json:"type,omitempty"`
	Value string `json:"value"`
}

// URLs are the links Lever returns to its web app and job site.
type URLs struct {
	List  string `json:"list,omitempty"`
	Show  string `json:"show,omitempty"`
	Apply string `json:"apply,omitempty"`
}

// Archived is the archive state of an opportunity or application.
type Archived struct {
	ArchivedAt Millis `json:"archivedAt"`
	// Reason is the archive reason id (an object when expanded).
	Reason Ref `json:"reason"`
}
