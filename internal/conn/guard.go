package conn

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// Limits bound what one target may send. Zero fields mean "use the default".
type Limits struct {
	// MaxBulkBytes bounds the payload of one bulk string ($), verbatim
	// string (=) or blob error (!).
	MaxBulkBytes int64
	// MaxAggregateLength bounds the elements of one array (*), set (~) or
	// push (>); a map (%) or attribute (|) counts 2 per entry.
	MaxAggregateLength int64
	// MaxLineBytes bounds one line, CRLF included: a simple string, error,
	// integer, double, big number, boolean or null, and every header line.
	MaxLineBytes int64
	// MaxReplyBytes bounds what one round trip (one pipeline: all the
	// replies read between two writes) may cost: each byte received, and
	// 32 bytes (elementCost) per aggregate element declared, for the memory
	// the client holds for it whether or not the element is sent.
	MaxReplyBytes int64
}

// elementCost is what each aggregate element declared (2 per map or
// attribute entry) costs against MaxReplyBytes, charged at its header: the
// memory go-redis allocates for it beyond its bytes, its 16-byte slot in the
// []any (or map) it makes from the header, and about 16 more for the value
// boxed in that slot (the string header, the int64 or the float64). Without
// it, a reply of small elements (*1000000 then :1 a million times) would cost
// 5 to 10 times what MaxReplyBytes counts of it.
const elementCost = 32

// DefaultLimits fill the zero fields of a Limits.
var DefaultLimits = Limits{
	MaxBulkBytes:       8 << 20,
	MaxAggregateLength: 1 << 18,
	MaxLineBytes:       64 << 10,
	MaxReplyBytes:      16 << 20,
}

// WithDefaults returns l with its zero (or negative) fields taken from
// DefaultLimits.
func (l Limits) WithDefaults() Limits {
	def := func(v, d int64) int64 {
		if v <= 0 {
			return d
		}
		return v
	}
	return Limits{
		MaxBulkBytes:       def(l.MaxBulkBytes, DefaultLimits.MaxBulkBytes),
		MaxAggregateLength: def(l.MaxAggregateLength, DefaultLimits.MaxAggregateLength),
		MaxLineBytes:       def(l.MaxLineBytes, DefaultLimits.MaxLineBytes),
		MaxReplyBytes:      def(l.MaxReplyBytes, DefaultLimits.MaxReplyBytes),
	}
}

// LimitError is what Read returns when the target breaks a limit; the
// connection is closed by then.
type LimitError struct {
	Limit string // the limit's YAML name: "max_bulk_bytes", "max_aggregate_length", "max_line_bytes" or "max_reply_bytes"
	Got   int64  // what the target declared or sent; for lines, a lower bound; for max_reply_bytes, what the round trip costs, a lower bound
	Max   int64  // the limit
	what  byte   // the type byte of the value, or 0 for a whole round trip
	elems int64  // for max_reply_bytes: the aggregate elements counted in Got, at elementCost each
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case "max_bulk_bytes":
		return fmt.Sprintf("reply broke max_bulk_bytes: %s of %d bytes, limit %d", typeName(e.what), e.Got, e.Max)
	case "max_aggregate_length":
		if e.what == '%' || e.what == '|' {
			return fmt.Sprintf("reply broke max_aggregate_length: %s of %d entries (%d elements), limit %d", typeName(e.what), e.Got/2, e.Got, e.Max)
		}
		return fmt.Sprintf("reply broke max_aggregate_length: %s of %d elements, limit %d", typeName(e.what), e.Got, e.Max)
	case "max_line_bytes":
		line := "line"
		if isHeader(e.what) {
			line = "header"
		}
		return fmt.Sprintf("reply broke max_line_bytes: %s %s of %d bytes or more, limit %d", typeName(e.what), line, e.Got, e.Max)
	default:
		if e.elems > 0 {
			elements := "elements"
			if e.elems == 1 {
				elements = "element"
			}
			return fmt.Sprintf("reply broke %s: %d bytes or more since the last command (%d %s at %d bytes each), limit %d", e.Limit, e.Got, e.elems, elements, elementCost, e.Max)
		}
		return fmt.Sprintf("reply broke %s: %d bytes or more since the last command, limit %d", e.Limit, e.Got, e.Max)
	}
}

// ProtocolError is what Read returns when the target sends bytes that are
// not RESP framing; the connection is closed by then.
type ProtocolError struct {
	Offset int64  // of the offending byte, counted from the last write
	Msg    string // what was wrong, with at most one target byte, quoted
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("reply is not RESP at byte %d since the last command: %s", e.Offset, e.Msg)
}

// isHeader tells the type bytes whose line is a length.
func isHeader(b byte) bool {
	switch b {
	case '$', '=', '!', '*', '~', '>', '%', '|':
		return true
	}
	return false
}

func typeName(b byte) string {
	switch b {
	case '+':
		return "simple string"
	case '-':
		return "error"
	case ':':
		return "integer"
	case ',':
		return "double"
	case '(':
		return "big number"
	case '#':
		return "boolean"
	case '_':
		return "null"
	case '$':
		return "bulk string"
	case '=':
		return "verbatim string"
	case '!':
		return "blob error"
	case '*':
		return "array"
	case '~':
		return "set"
	case '>':
		return "push"
	case '%':
		return "map"
	case '|':
		return "attribute"
	}
	return "reply"
}

// Parser states: where in the RESP framing the next byte falls.
const (
	stType      uint8 = iota // the type byte of a value
	stLine                   // inside a simple line, up to its LF
	stLenFirst               // the first byte of a length: '-' or a digit
	stLenDigits              // more digits, or the CR
	stLenNeg                 // after '-': only "1" (a null) follows
	stLenNegOne              // after "-1": the CR
	stLenLF                  // the LF that ends a header line
	stPayload                // bulk payload bytes
	stPayloadCR              // the CR after a payload
	stPayloadLF              // the LF after a payload
)

// guard follows the RESP framing of what it reads; see Guard.
type guard struct {
	net.Conn
	lim Limits

	wrote  atomic.Bool // a Write since the last Read: a new round trip
	closed atomic.Bool
	answer answerWait // the time an idle connection has to start answering

	err     error // sticky, after a violation
	used    int64 // bytes read since the last write
	held    int64 // elementCost per aggregate element declared since the last write
	pending int64 // values still owed to the enclosing aggregates
	rem     int64 // payload bytes left in the current bulk
	n       int64 // the length being parsed
	line    int64 // bytes of the current line so far
	typ     byte  // the type byte of the current value
	cr      bool  // the last byte of a simple line so far was CR
	state   uint8
}

// sysGuard is a guard over a conn that has a file descriptor: it exposes it
// so that go-redis's pool can peek at an idle connection (MSG_PEEK, nothing
// consumed) and drop one the target closed, rather than fail the next probe.
type sysGuard struct{ *guard }

func (g sysGuard) SyscallConn() (syscall.RawConn, error) {
	return g.Conn.(syscall.Conn).SyscallConn()
}

// Guard wraps c, a connection to a Redis target, so that Read follows the
// RESP2 and RESP3 framing of the replies as they arrive and refuses, before
// passing them on, the bytes that break l (zero fields default) or are not
// RESP. A length is checked when its header line is complete, before its LF
// is passed on, so nothing above ever allocates from a length that breaks a
// limit.
//
// MaxReplyBytes is a budget of memory: each byte read costs 1, and each
// aggregate element declared costs elementCost (32) at its header, where the
// client allocates its slot. A header is refused if what it costs, with the
// bytes its values must still take (a bulk's payload and CRLF, and 3 bytes,
// the least a value takes on the wire, per value owed to the aggregates
// open: only 3, as their memory was charged at their header), could not fit
// in what remains of the budget. So what one round trip makes go-redis
// allocate (the bytes it reads, the slots it makes for the elements and the
// values it boxes in them) stays within about MaxReplyBytes, whatever the
// lengths declared.
//
// On a violation Read returns 0 and a *LimitError or *ProtocolError,
// closes c, and returns the same error from then on.
//
// A round trip on a connection that was idle gets 1/attempts of the time
// left to its read deadline to start answering (see answerWait).
//
// Write, deadlines and the rest pass through; a Write starts a new round
// trip for MaxReplyBytes. Reads must not run concurrently with each other,
// as for any reader of a stream; a Write may run concurrently with a Read.
func Guard(c net.Conn, l Limits, attempts int) net.Conn {
	g := &guard{Conn: c, lim: l.WithDefaults(), answer: answerWait{share: attempts, lastRead: time.Now()}}
	if _, ok := c.(syscall.Conn); ok {
		return sysGuard{g}
	}
	return g
}

func (g *guard) Write(p []byte) (int, error) {
	g.wrote.Store(true)
	idle := g.answer.wrote()
	n, err := g.Conn.Write(p)
	if err != nil && idle {
		err = &IdleConnError{err}
	}
	return n, err
}

// Close closes the connection once; later calls, and a call after a
// violation closed it, return nil.
func (g *guard) Close() error {
	if g.closed.Swap(true) {
		return nil
	}
	return g.Conn.Close()
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.wrote.Load() && g.wrote.Swap(false) {
		g.used, g.held = 0, 0
	}
	n, err := g.Conn.Read(p)
	if n <= 0 {
		if err != nil && g.answer.awaited() {
			err = &IdleConnError{err}
		}
		return n, err
	}
	if derr := g.answer.read(g.Conn); derr != nil && err == nil {
		err = derr
	}
	// Bytes past the reply budget are refused; the ones before it are
	// scanned first (scan stops where it ends), so that the first violation
	// in the stream is the one reported.
	if verr := g.scan(p[:n]); verr != nil {
		return 0, g.fail(verr)
	}
	if int64(n) > g.lim.MaxReplyBytes-g.used-g.held {
		return 0, g.fail(&LimitError{Limit: "max_reply_bytes", Got: g.used + g.held + int64(n), Max: g.lim.MaxReplyBytes, elems: g.held / elementCost})
	}
	g.used += int64(n)
	return n, err
}

func (g *guard) fail(err error) error {
	g.err = err
	if !g.closed.Swap(true) {
		_ = g.Conn.Close()
	}
	return err
}

// scan advances the parser over p, the bytes that follow g.used bytes of
// this round trip, up to where the reply budget ends.
func (g *guard) scan(p []byte) error {
	maxLine := g.lim.MaxLineBytes
	p = g.inBudget(p)
	for i := 0; i < len(p); {
		switch g.state {
		case stPayload:
			if e := i + int(min(g.rem, int64(len(p)))); e+1 < len(p) && p[e] == '\r' && p[e+1] == '\n' {
				i, g.rem, g.state = e+2, 0, stType // the rest of the payload, and its CRLF
				continue
			}
			k := int64(len(p) - i)
			if k >= g.rem {
				i += int(g.rem)
				g.rem = 0
				g.state = stPayloadCR
			} else {
				g.rem -= k
				i = len(p)
			}

		case stType:
			b := p[i]
			g.typ = b
			g.line = 1
			switch b {
			case '+', '-', ':', ',', '(', '#', '_':
				g.state, g.cr = stLine, false
			case '$', '=', '!', '*', '~', '>', '%', '|':
				g.state, g.n = stLenFirst, 0
			default:
				return g.protocol(i, "unknown type byte %q", b)
			}
			if g.pending > 0 {
				g.pending-- // this value fills a slot; an attribute's value fills it again
			}
			i++
			if g.state == stLenFirst {
				// Most headers arrive whole: parse them at once, and
				// leave the rest, and every error, to one byte at a time.
				if end, n := wholeHeader(p[i:]); end > 0 && int64(end)+1 <= maxLine {
					g.n = n
					i += end
					if err := g.endHeader(g.used + int64(i)); err != nil {
						return err
					}
					p = g.inBudget(p) // the elements it declared are held
				}
			}

		case stLine:
			rest := p[i:]
			j := bytes.IndexByte(rest, '\n')
			if j < 0 {
				g.line += int64(len(rest))
				if g.line > g.lineMax() {
					return g.overLine()
				}
				g.cr = rest[len(rest)-1] == '\r'
				i = len(p)
				continue
			}
			g.line += int64(j + 1)
			if g.line > g.lineMax() {
				return g.overLine()
			}
			if !(j > 0 && rest[j-1] == '\r' || j == 0 && g.cr) {
				return g.protocol(i+j, "line ends in LF without CR")
			}
			i += j + 1
			g.state = stType

		case stPayloadCR:
			if p[i] != '\r' {
				return g.protocol(i, "%q after a payload, want CR", p[i])
			}
			g.state = stPayloadLF
			i++

		case stPayloadLF:
			if p[i] != '\n' {
				return g.protocol(i, "%q after a payload, want LF", p[i])
			}
			g.state = stType
			i++

		default: // a header line, one byte at a time
			g.line++
			if g.line > maxLine {
				return g.overLine()
			}
			if g.state == stLenLF && p[i] == '\n' {
				i++
				if err := g.endHeader(g.used + int64(i)); err != nil {
					return err
				}
				p = g.inBudget(p) // the elements it declared are held
				continue
			}
			if err := g.header(p[i], i); err != nil {
				return err
			}
			i++
		}
	}
	return nil
}

// inBudget returns p, the bytes that follow g.used bytes of this round
// trip, cut where the reply budget ends.
func (g *guard) inBudget(p []byte) []byte {
	if left := g.lim.MaxReplyBytes - g.used - g.held; int64(len(p)) > left {
		return p[:left]
	}
	return p
}

// wholeHeader parses a length of 1 to 18 digits then CRLF at the start of
// p, which cannot overflow. It returns the offset after the LF and the
// length, or 0 if p does not start so.
func wholeHeader(p []byte) (end int, n int64) {
	j := 0
	for ; j < len(p) && j < 18 && p[j] >= '0' && p[j] <= '9'; j++ {
		n = n*10 + int64(p[j]-'0')
	}
	if j == 0 || j+1 >= len(p) || p[j] != '\r' || p[j+1] != '\n' {
		return 0, 0
	}
	return j + 2, n
}

// header takes byte b, at offset i of the chunk, of a header line but for
// the LF that ends it, which scan takes.
func (g *guard) header(b byte, i int) error {
	switch g.state {
	case stLenFirst:
		switch {
		case b >= '0' && b <= '9':
			g.n, g.state = int64(b-'0'), stLenDigits
		case b == '-' && (g.typ == '$' || g.typ == '*'):
			g.state = stLenNeg
		default:
			return g.protocol(i, "%q in a %s length", b, typeName(g.typ))
		}
	case stLenDigits:
		switch {
		case b >= '0' && b <= '9':
			d := int64(b - '0')
			if g.n > (math.MaxInt64-d)/10 {
				return g.protocol(i, "%s length overflows int64", typeName(g.typ))
			}
			g.n = g.n*10 + d
		case b == '\r':
			g.state = stLenLF
		default:
			return g.protocol(i, "%q in a %s length", b, typeName(g.typ))
		}
	case stLenNeg:
		if b != '1' {
			return g.protocol(i, "%q in a %s length, where only -1 is negative", b, typeName(g.typ))
		}
		g.n, g.state = -1, stLenNegOne
	case stLenNegOne:
		if b != '\r' {
			return g.protocol(i, "%q in a %s length, where only -1 is negative", b, typeName(g.typ))
		}
		g.state = stLenLF
	case stLenLF:
		return g.protocol(i, "%q after CR in a header, want LF", b)
	}
	return nil
}

// endHeader checks the length of a complete header, at bytes into the round
// trip (at+g.held is within the budget), and sets what follows.
func (g *guard) endHeader(at int64) error {
	n := g.n
	g.state = stType
	if n < 0 { // a null
		return nil
	}
	switch g.typ {
	case '$', '=', '!':
		if n > g.lim.MaxBulkBytes {
			return &LimitError{Limit: "max_bulk_bytes", Got: n, Max: g.lim.MaxBulkBytes, what: g.typ}
		}
		if need := add(add(n, 2), mul(g.pending, 3)); need > g.lim.MaxReplyBytes-at-g.held {
			return g.overReply(at, need, 0)
		}
		g.rem, g.state = n, stPayload
		if n == 0 {
			g.state = stPayloadCR
		}
	default: // '*', '~', '>', '%', '|'
		elems := n
		if g.typ == '%' || g.typ == '|' {
			elems = add(n, n)
		}
		if elems > g.lim.MaxAggregateLength {
			return &LimitError{Limit: "max_aggregate_length", Got: elems, Max: g.lim.MaxAggregateLength, what: g.typ}
		}
		cost := mul(elems, elementCost)
		owed := elems
		if g.typ == '|' {
			owed++ // the value the attribute describes follows it
		}
		pending := add(g.pending, owed)
		if need := add(cost, mul(pending, 3)); need > g.lim.MaxReplyBytes-at-g.held {
			return g.overReply(at, need, elems)
		}
		g.held += cost
		g.pending = pending
	}
	return nil
}

// overReply is the error for a header at at that needs need more of the
// budget than is left, for elems elements declared and what they owe.
func (g *guard) overReply(at, need, elems int64) error {
	return &LimitError{Limit: "max_reply_bytes", Got: add(add(at, g.held), need), Max: g.lim.MaxReplyBytes, what: g.typ, elems: add(g.held/elementCost, elems)}
}

func (g *guard) overLine() error {
	return &LimitError{Limit: "max_line_bytes", Got: g.line, Max: g.lineMax(), what: g.typ}
}

// maxNumberLine caps the line of a number, whatever MaxLineBytes: an
// integer or a double takes 25 bytes at most, and go-redis parses a big
// number's digits in time that grows with their square.
const maxNumberLine = 128

// lineMax is the longest line the current value may have.
func (g *guard) lineMax() int64 {
	switch g.typ {
	case ':', ',', '(':
		return min(g.lim.MaxLineBytes, maxNumberLine)
	}
	return g.lim.MaxLineBytes
}

func (g *guard) protocol(i int, format string, args ...any) error {
	return &ProtocolError{Offset: g.used + int64(i), Msg: fmt.Sprintf(format, args...)}
}

// add and mul saturate at math.MaxInt64 (their arguments are not negative,
// and k is a constant above 0).
func add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mul(a, k int64) int64 {
	if a > math.MaxInt64/k {
		return math.MaxInt64
	}
	return k * a
}

// Refused reports whether err is the guard refusing a reply: a broken limit
// or bytes that are not RESP. The connection is closed; the probe fails.
func Refused(err error) bool {
	var limit *LimitError
	var proto *ProtocolError
	return errors.As(err, &limit) || errors.As(err, &proto)
}
