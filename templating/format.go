package templating

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// appendText formats v into text: strings as they are, numbers in their
// shortest form, bools as true/false, null as null, objects and lists as
// compact JSON.
func appendText(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case string:
		b.WriteString(x)
	case float64:
		writeFloat(b, x, 64)
	case float32:
		writeFloat(b, float64(x), 32)
	case int:
		writeInt(b, int64(x))
	case int64:
		writeInt(b, x)
	case int32:
		writeInt(b, int64(x))
	case int16:
		writeInt(b, int64(x))
	case int8:
		writeInt(b, int64(x))
	case uint:
		writeUint(b, uint64(x))
	case uint64:
		writeUint(b, x)
	case uint32:
		writeUint(b, uint64(x))
	case uint16:
		writeUint(b, uint64(x))
	case uint8:
		writeUint(b, uint64(x))
	case json.Number:
		b.WriteString(string(x))
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	case time.Time:
		b.WriteString(x.Format(time.RFC3339Nano))
	case map[string]any, []any, json.Marshaler:
		return writeJSON(b, v)
	case fmt.Stringer:
		b.WriteString(x.String())
	default:
		return writeJSON(b, v)
	}
	return nil
}

func writeInt(b *strings.Builder, n int64) {
	var buf [24]byte
	b.Write(strconv.AppendInt(buf[:0], n, 10))
}

func writeUint(b *strings.Builder, n uint64) {
	var buf [24]byte
	b.Write(strconv.AppendUint(buf[:0], n, 10))
}

// writeFloat formats like encoding/json (and JavaScript): 3, 2.5, 1e+21,
// 1e-7; never 3e+00.
func writeFloat(b *strings.Builder, f float64, bits int) {
	var buf [32]byte
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && !math.IsInf(f, 0) {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	out := strconv.AppendFloat(buf[:0], f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(out); n >= 4 && out[n-4] == 'e' && out[n-3] == '-' && out[n-2] == '0' {
			out[n-2] = out[n-1]
			out = out[:n-1]
		}
	}
	b.Write(out)
}

func writeJSON(b *strings.Builder, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("cannot format %s as JSON: %w", describe(v), err)
	}
	b.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return nil
}
