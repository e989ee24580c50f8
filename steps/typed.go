package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Typed returns spec with Run set to a handler that decodes the step's
// rendered input into In and runs run with it. The output, an Out, becomes
// the step's output.
//
// Decoding goes through JSON (the input is re-encoded, so only JSON values
// reach In) and follows encoding/json's conventions: fields are named by
// their `json` tags, anonymous struct fields are flattened and types that
// implement json.Unmarshaler decode themselves. It is stricter than
// encoding/json, and every failure is Permanent with the input path and a
// fix ("input.timeout: must be a duration such as \"30s\", got number 30"):
//
//   - a field In does not have is an error, with a did-you-mean;
//   - a property spec.Input lists as Required must be present (and, unless
//     its schema type is "any", not null);
//   - a property missing or null takes the Default of its schema;
//   - a value must be one of its schema's Enum, when the schema has one;
//   - a time.Duration is a string such as "30s" or "1h30m" and a time.Time
//     an RFC 3339 string; integers must be whole and in range.
//
// Null is treated as absent: it leaves the field at its zero value (nil for
// pointers, maps, slices and interfaces).
func Typed[In, Out any](spec Spec, run func(ctx context.Context, req *Request, in In) (Out, error)) Spec {
	schema := spec.Input
	spec.Run = func(ctx context.Context, req *Request) (any, error) {
		in, err := DecodeInput[In](schema, req.Input)
		if err != nil {
			return nil, err
		}
		out, err := run(ctx, req, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	return spec
}

// DecodeInput decodes a step's rendered input into In the way Typed does,
// checking it against schema (which may be nil). Errors are Permanent.
// It is for steps that the engine runs itself (fanout) or that need the
// decoded input outside Run.
func DecodeInput[In any](schema *Schema, input map[string]any) (In, error) {
	var in In
	if input == nil {
		input = map[string]any{}
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return in, Permanentf("input: cannot be encoded as JSON: %v", err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return in, Permanentf("input: cannot be decoded as JSON: %v", err)
	}
	if err := decodeValue("input", v, reflect.ValueOf(&in).Elem(), schema); err != nil {
		return in, Permanent(err)
	}
	return in, nil
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	timeType        = reflect.TypeFor[time.Time]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// decodeValue stores the JSON value v (nil, bool, float64, string, []any,
// map[string]any) in rv, described by sch (may be nil).
func decodeValue(path string, v any, rv reflect.Value, sch *Schema) error {
	if v == nil {
		rv.SetZero()
		return nil
	}
	if sch != nil && len(sch.Enum) > 0 {
		if err := checkEnum(path, v, sch.Enum); err != nil {
			return err
		}
	}
	t := rv.Type()
	switch t {
	case durationType:
		s, ok := v.(string)
		if !ok {
			return mustBe(path, `a duration such as "30s" or "1h30m"`, v)
		}
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return mustBe(path, `a duration: a number with a unit such as "30s", "5m" or "1h30m"`, v)
		}
		rv.SetInt(int64(d))
		return nil
	case timeType:
		s, ok := v.(string)
		if !ok {
			return mustBe(path, `an RFC 3339 time such as "2025-01-31T09:00:00Z"`, v)
		}
		tm, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
		if err != nil {
			return mustBe(path, `an RFC 3339 time such as "2025-01-31T09:00:00Z" or "2025-01-31T09:00:00+01:00"`, v)
		}
		rv.Set(reflect.ValueOf(tm))
		return nil
	case rawMessageType:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		rv.SetBytes(b)
		return nil
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshalerType) && rv.CanAddr() {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if err := rv.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(b); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return unsupported(path, t)
		}
		rv.Set(reflect.ValueOf(v))
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := decodeValue(path, v, p.Elem(), sch); err != nil {
			return err
		}
		rv.Set(p)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return mustBe(path, "a boolean (true or false)", v)
		}
		rv.SetBool(b)
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return mustBe(path, "a string", v)
		}
		rv.SetString(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f, err := wholeNumber(path, v)
		if err != nil {
			return err
		}
		if f < math.MinInt64 || f >= math.MaxInt64 || rv.OverflowInt(int64(f)) {
			return fmt.Errorf("%s: %s is out of range", path, describe(v))
		}
		rv.SetInt(int64(f))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f, err := wholeNumber(path, v)
		if err != nil {
			return err
		}
		if f < 0 {
			return fmt.Errorf("%s: must not be negative, got %s", path, describe(v))
		}
		if f >= math.MaxUint64 || rv.OverflowUint(uint64(f)) {
			return fmt.Errorf("%s: %s is out of range", path, describe(v))
		}
		rv.SetUint(uint64(f))
	case reflect.Float32, reflect.Float64:
		f, ok := v.(float64)
		if !ok {
			return mustBe(path, "a number", v)
		}
		if rv.OverflowFloat(f) {
			return fmt.Errorf("%s: %s is out of range", path, describe(v))
		}
		rv.SetFloat(f)
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return mustBe(path, "a list such as [\"a\", \"b\"]", v)
		}
		var items *Schema
		if sch != nil {
			items = sch.Items
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		for i, item := range arr {
			if err := decodeValue(path+"["+strconv.Itoa(i)+"]", item, s.Index(i), items); err != nil {
				return err
			}
		}
		rv.Set(s)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return unsupported(path, t)
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return mustBe(path, "an object such as {\"key\": \"value\"}", v)
		}
		m := reflect.MakeMapWithSize(t, len(obj))
		for _, k := range sortedKeys(obj) {
			ev := reflect.New(t.Elem()).Elem()
			if err := decodeValue(joinPath(path, k), obj[k], ev, propertySchema(sch, k)); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		rv.Set(m)
	case reflect.Struct:
		return decodeStruct(path, v, rv, sch)
	default:
		return unsupported(path, t)
	}
	return nil
}

func decodeStruct(path string, v any, rv reflect.Value, sch *Schema) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return mustBe(path, "an object such as {\"key\": \"value\"}", v)
	}
	fields := structFields(rv.Type())
	known := make(map[string]bool, len(fields))
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		known[f.name] = true
		names = append(names, f.name)
	}
	sort.Strings(names)
	// Unknown fields first: a misspelt required field reads better as
	// "unknown, did you mean" than as "missing".
	for _, k := range sortedKeys(obj) {
		if known[k] {
			continue
		}
		msg := fmt.Sprintf("%s: unknown field", joinPath(path, k))
		if s := suggest(k, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		if len(names) == 0 {
			msg += "; this takes no fields, remove it"
		} else {
			msg += " (known fields: " + strings.Join(names, ", ") + ")"
		}
		return fmt.Errorf("%s", msg)
	}
	if sch != nil {
		for _, r := range sch.Required {
			val, has := obj[r]
			p := sch.Properties[r]
			switch {
			case !has && (p == nil || p.Default == nil):
				return fmt.Errorf("%s: required field is missing%s", joinPath(path, r), describedAs(p))
			case has && val == nil && p != nil && p.Default == nil && p.Type != "" && p.Type != TypeAny:
				return fmt.Errorf("%s: required, got null%s", joinPath(path, r), describedAs(p))
			}
		}
	}
	for _, f := range fields {
		val, has := obj[f.name]
		ps := propertySchema(sch, f.name)
		if val == nil && ps != nil && ps.Default != nil {
			val, has = normalizeJSON(ps.Default), true
		}
		if !has {
			continue
		}
		if err := decodeValue(joinPath(path, f.name), val, rv.FieldByIndex(f.index), ps); err != nil {
			return err
		}
	}
	return nil
}

type structField struct {
	name  string
	index []int
}

// structFields lists the JSON fields of a struct type, flattening untagged
// anonymous struct fields as encoding/json does.
func structFields(t reflect.Type) []structField {
	var out []structField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for _, sf := range structFields(f.Type) {
				sf.index = append([]int{i}, sf.index...)
				out = append(out, sf)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, structField{name: name, index: []int{i}})
	}
	return out
}

func propertySchema(sch *Schema, name string) *Schema {
	if sch == nil {
		return nil
	}
	return sch.Properties[name]
}

func describedAs(p *Schema) string {
	if p == nil || p.Description == "" {
		return ""
	}
	return " (" + strings.TrimSuffix(p.Description, ".") + ")"
}

func wholeNumber(path string, v any) (float64, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, mustBe(path, "a whole number such as 10", v)
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		return 0, mustBe(path, "a whole number such as 10", v)
	}
	return f, nil
}

func checkEnum(path string, v any, enum []any) error {
	got, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	opts := make([]string, len(enum))
	var strs []string
	for i, e := range enum {
		b, _ := json.Marshal(e)
		if string(b) == string(got) {
			return nil
		}
		opts[i] = string(b)
		if s, ok := e.(string); ok {
			strs = append(strs, s)
		}
	}
	msg := fmt.Sprintf("%s: must be one of %s, got %s", path, strings.Join(opts, ", "), describe(v))
	if s, ok := v.(string); ok {
		if sug := suggest(s, strs); sug != "" {
			msg += fmt.Sprintf("; did you mean %q?", sug)
		}
	}
	return fmt.Errorf("%s", msg)
}

func mustBe(path, want string, v any) error {
	return fmt.Errorf("%s: must be %s, got %s", path, want, describe(v))
}

func unsupported(path string, t reflect.Type) error {
	return fmt.Errorf("%s: the step cannot decode into Go type %s (a bug in the step type)", path, t)
}

// describe names a JSON value for a message: `string "yes"`, `number 1.5`,
// `object`.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if utf8.RuneCountInString(v) > 40 {
			v = string([]rune(v)[:37]) + "..."
		}
		return "string " + strconv.Quote(v)
	case float64:
		return "number " + strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// Describe names a JSON value the way input errors do: `string "yes"`,
// `number 1.5`, `boolean true`, `null`, `object`, `array`. Step types use it
// in their own messages.
func Describe(v any) string { return describe(normalizeJSON(v)) }

var simpleKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// joinPath appends an object key to an input path: input.headers.Accept,
// or input.headers["X Odd"] for a key that is not a plain name.
func joinPath(path, key string) string {
	if simpleKey.MatchString(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// normalizeJSON returns v as encoding/json would decode it into an any.
func normalizeJSON(v any) any {
	switch v.(type) {
	case nil, bool, float64, string:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

// suggest returns the candidate closest to s, if it is close enough to be a
// likely typo (or differs only in case).
func suggest(s string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		if strings.EqualFold(s, c) {
			return c
		}
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		limit := 1
		if len(c) > 5 {
			limit = 2
		}
		if d <= limit && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ar, br := []rune(a), []rune(b)
	prev := make([]int, len(br)+1)
	cur := make([]int, len(br)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ar); i++ {
		cur[0] = i
		for j := 1; j <= len(br); j++ {
			cost := 1
			if ar[i-1] == br[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(br)]
}
