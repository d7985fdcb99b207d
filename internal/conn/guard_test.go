package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// stubConn serves data in reads of the given sizes (cycled; the whole of
// what is left when sizes is empty), and counts writes and closes.
type stubConn struct {
	data   []byte
	sizes  []int
	pos, k int
	writes int
	closed bool
}

func (s *stubConn) Read(p []byte) (int, error) {
	if s.closed {
		return 0, net.ErrClosed
	}
	if s.pos == len(s.data) {
		return 0, io.EOF
	}
	n := len(s.data) - s.pos
	if len(s.sizes) > 0 {
		n = min(n, s.sizes[s.k%len(s.sizes)])
		s.k++
	}
	n = copy(p, s.data[s.pos:s.pos+n])
	s.pos += n
	return n, nil
}

func (s *stubConn) Write(p []byte) (int, error)      { s.writes++; return len(p), nil }
func (s *stubConn) Close() error                     { s.closed = true; return nil }
func (s *stubConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (s *stubConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (s *stubConn) SetDeadline(time.Time) error      { return nil }
func (s *stubConn) SetReadDeadline(time.Time) error  { return nil }
func (s *stubConn) SetWriteDeadline(time.Time) error { return nil }

// readAll reads c to its first error, checking that no Read returns more
// than asked for.
func readAll(t testing.TB, c net.Conn) ([]byte, error) {
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n < 0 || n > len(buf) {
			t.Fatalf("Read returned %d for a buffer of %d", n, len(buf))
		}
		got = append(got, buf[:n]...)
		if err != nil {
			return got, err
		}
	}
}

// chunkings are the read sizes every framing test runs with: byte by byte,
// small odd sizes that split headers and CRLFs, and all at once.
var chunkings = [][]int{{1}, {2}, {3}, {1, 2, 5}, {7}, {64}, nil}

// validReplies are real-looking RESP2 and RESP3 replies, each within the
// small limits of the fuzz target.
var validReplies = []struct{ name, resp string }{
	{"simple string", "+OK\r\n"},
	{"error", "-ERR unknown command 'FOO', with args beginning with: \r\n"},
	{"integer", ":1\r\n"},
	{"negative integer", ":-42\r\n"},
	{"bulk", "$5\r\nhello\r\n"},
	{"empty bulk", "$0\r\n\r\n"},
	{"bulk holding CRLFs", "$6\r\n\r\n\r\n\r\n\r\n"},
	{"null bulk", "$-1\r\n"},
	{"null array", "*-1\r\n"},
	{"empty array", "*0\r\n"},
	{"array", "*2\r\n$3\r\nfoo\r\n:7\r\n"},
	{"nested arrays", "*3\r\n*2\r\n:1\r\n:2\r\n*1\r\n+x\r\n*0\r\n"},
	{"array holding nulls and errors", "*3\r\n$-1\r\n-ERR no\r\n*-1\r\n"},
	{"leading zeros", "$005\r\nhello\r\n"},
	{"CR inside a line", "+a\rb\r\n"},
	{"map", "%2\r\n+a\r\n:1\r\n+b\r\n_\r\n"},
	{"set", "~3\r\n,3.14\r\n#t\r\n#f\r\n"},
	{"double", ",-inf\r\n"},
	{"big number", "(3492890328409238509324850943850943825\r\n"},
	{"push", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"},
	{"verbatim", "=15\r\ntxt:Some string\r\n"},
	{"blob error", "!21\r\nSYNTAX invalid syntax\r\n"},
	{"attribute", "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.19\r\n$1\r\nb\r\n,0.01\r\n*2\r\n:2039123\r\n:9543892\r\n"},
	{"attribute inside an array", "*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n:2\r\n"},
	{"pipeline", "+PONG\r\n$3\r\nbar\r\n:0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n-WRONGTYPE Operation\r\n"},
}

func TestGuardPassesValidReplies(t *testing.T) {
	for _, tc := range validReplies {
		for _, sizes := range chunkings {
			t.Run(fmt.Sprintf("%s/%v", tc.name, sizes), func(t *testing.T) {
				stub := &stubConn{data: []byte(tc.resp), sizes: sizes}
				got, err := readAll(t, Guard(stub, Limits{}, 1))
				if err != io.EOF {
					t.Fatalf("err %v, want io.EOF", err)
				}
				if string(got) != tc.resp {
					t.Fatalf("got %q, want %q", got, tc.resp)
				}
				if stub.closed {
					t.Error("the connection was closed")
				}
			})
		}
	}
}

func TestGuardPassesInfo(t *testing.T) {
	reply := infoReply(t)
	for _, sizes := range [][]int{{1}, {13}, {4096}, nil} {
		stub := &stubConn{data: reply, sizes: sizes}
		got, err := readAll(t, Guard(stub, Limits{}, 1))
		if err != io.EOF || !bytes.Equal(got, reply) {
			t.Errorf("reads of %v: %d of %d bytes, err %v", sizes, len(got), len(reply), err)
		}
	}
}

func TestGuardRefuses(t *testing.T) {
	small := Limits{MaxBulkBytes: 10, MaxAggregateLength: 10, MaxLineBytes: 16, MaxReplyBytes: 100}
	budget := Limits{MaxReplyBytes: 100}
	tests := []struct {
		name  string
		lim   Limits
		in    string
		limit string // the broken limit; "" for a protocol error
		at    int    // offset of the byte that decides it; -1 for the last
	}{
		{"huge array", Limits{}, "*1000000000000\r\n", "max_aggregate_length", -1},
		{"huge bulk", Limits{}, "$1000000000000\r\n", "max_bulk_bytes", -1},
		{"huge bulk after a valid reply", Limits{}, "+OK\r\n$1000000000000\r\n", "max_bulk_bytes", -1},
		{"bulk of max int64", Limits{}, "$9223372036854775807\r\n", "max_bulk_bytes", -1},
		{"array of max int64", Limits{}, "*9223372036854775807\r\n", "max_aggregate_length", -1},
		{"map of max int64 entries", Limits{}, "%9223372036854775807\r\n", "max_aggregate_length", -1},
		{"bulk over int64", Limits{}, "$99999999999999999999\r\n", "", 19},
		{"array over int64", Limits{}, "*99999999999999999999\r\n", "", 19},
		{"verbatim", small, "=11\r\n", "max_bulk_bytes", -1},
		{"blob error", small, "!11\r\n", "max_bulk_bytes", -1},
		{"set", small, "~11\r\n", "max_aggregate_length", -1},
		{"push", small, ">11\r\n", "max_aggregate_length", -1},
		{"map counts 2 per entry", small, "%6\r\n", "max_aggregate_length", -1},
		{"attribute counts 2 per entry", small, "|6\r\n", "max_aggregate_length", -1},
		{"nested array", small, "*2\r\n*11\r\n", "max_aggregate_length", -1},
		{"simple line", small, "+" + strings.Repeat("a", 20) + "\r\n", "max_line_bytes", 16},
		{"line without end", small, "+" + strings.Repeat("a", 20), "max_line_bytes", 16},
		{"error line", small, "-ERR " + strings.Repeat("e", 20) + "\r\n", "max_line_bytes", 16},
		{"line of one byte too many", small, "+" + strings.Repeat("a", 14) + "\r\n", "max_line_bytes", 16},
		{"header line", small, "$" + strings.Repeat("0", 20) + "5\r\n", "max_line_bytes", 16},
		{"bulk over the reply budget", budget, "$96\r\n", "max_reply_bytes", -1}, // 5 + 96 + 2 > 100
		// An element costs 32 at its header, and 3 bytes while owed.
		{"array over the reply budget", budget, "*3\r\n", "max_reply_bytes", -1},                                                         // 4 + 3×32 + 3×3 > 100
		{"small elements before max_aggregate_length", Limits{MaxReplyBytes: 1000}, "*40\r\n", "max_reply_bytes", -1},                    // 40×32 > 1000
		{"map over the reply budget", budget, "%2\r\n", "max_reply_bytes", -1},                                                           // 2×2 elements
		{"nested arrays over the reply budget", Limits{MaxReplyBytes: 108}, "*2\r\n*1\r\n", "max_reply_bytes", -1},                       // 8 + 3×32 + 2×3 > 108
		{"bulk in an array over the reply budget", Limits{MaxBulkBytes: 40, MaxReplyBytes: 116}, "*2\r\n$40\r\n", "max_reply_bytes", -1}, // 9 + 2×32 + 42 + 3 > 116
		{"attribute over the reply budget", Limits{MaxReplyBytes: 76}, "|1\r\n", "max_reply_bytes", -1},                                  // 4 + 2×32 + 3×3 > 76
		{"flood", small, strings.Repeat(":1\r\n", 30), "max_reply_bytes", 100},
		{"elements held end the budget sooner", Limits{MaxReplyBytes: 75}, "*2\r\n:1\r\n:2\r\n", "max_reply_bytes", 11}, // 12 + 2×32 > 75
		{"flood in an array", budget, "*1\r\n+" + strings.Repeat("a", 100), "max_reply_bytes", 100 - 32},
		{"flood in an array before a later error", budget, "*1\r\n+" + strings.Repeat("a", 70) + "\n", "max_reply_bytes", 100 - 32},
		{"unknown type byte", Limits{}, "HTTP/1.1 400 Bad Request\r\n", "", 0},
		{"garbage after a reply", Limits{}, "+OK\r\nx", "", 5},
		{"blank line", Limits{}, "\r\n", "", 0},
		{"LF without CR", Limits{}, "+OK\n", "", 3},
		{"LF alone", Limits{}, "+\n", "", 1},
		{"negative length", Limits{}, "$-2\r\n", "", 2},
		{"negative map", Limits{}, "%-1\r\n", "", 1},
		{"negative zero", Limits{}, "*-0\r\n", "", 2},
		{"null with more digits", Limits{}, "$-12\r\n", "", 3},
		{"empty length", Limits{}, "$\r\n", "", 1},
		{"plus sign", Limits{}, "$+5\r\nhello\r\n", "", 1},
		{"letter in a length", Limits{}, "*1x\r\n", "", 2},
		{"CR without LF in a header", Limits{}, "$1\rx", "", 3},
		{"bulk longer than declared", Limits{}, "$3\r\nfooXY", "", 7},
		{"bulk without LF", Limits{}, "$3\r\nfoo\rX", "", 8},
		{"streamed string", Limits{}, "$?\r\n;4\r\nHell\r\n;0\r\n", "", 1},
	}
	for _, tc := range tests {
		at := tc.at
		if at < 0 {
			at = len(tc.in) - 1
		}
		for _, sizes := range chunkings {
			t.Run(fmt.Sprintf("%s/%v", tc.name, sizes), func(t *testing.T) {
				stub := &stubConn{data: []byte(tc.in), sizes: sizes}
				g := Guard(stub, tc.lim, 1)
				got, err := readAll(t, g)
				if len(got) > at {
					t.Errorf("passed %d bytes, %q; byte %d decides the violation", len(got), got, at)
				}
				checkViolation(t, err, tc.limit)
				if !stub.closed {
					t.Error("the connection is still open")
				}
				if n, again := g.Read(make([]byte, 16)); n != 0 || again != err {
					t.Errorf("next Read: %d, %v; want 0 and the same error", n, again)
				}
				if err := g.Close(); err != nil {
					t.Errorf("Close after a violation: %v", err)
				}
			})
		}
	}
}

// checkViolation checks that err is a *LimitError for limit, or a
// *ProtocolError if limit is "".
func checkViolation(t *testing.T, err error, limit string) {
	t.Helper()
	var le *LimitError
	var pe *ProtocolError
	switch {
	case limit == "" && !errors.As(err, &pe):
		t.Fatalf("err %v (%T), want a *ProtocolError", err, err)
	case limit != "" && !errors.As(err, &le):
		t.Fatalf("err %v (%T), want a *LimitError", err, err)
	case limit != "" && le.Limit != limit:
		t.Fatalf("err %v, want one for %s", err, limit)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || len(msg) > 160 {
		t.Errorf("message %q: want one short line", msg)
	}
}

func TestGuardErrorMessages(t *testing.T) {
	tests := []struct {
		lim  Limits
		in   string
		want string
	}{
		{Limits{}, "$1000000000000\r\n", "reply broke max_bulk_bytes: bulk string of 1000000000000 bytes, limit 8388608"},
		{Limits{}, "*1000000000000\r\n", "reply broke max_aggregate_length: array of 1000000000000 elements, limit 262144"},
		{Limits{MaxAggregateLength: 8}, "%5\r\n", "reply broke max_aggregate_length: map of 5 entries (10 elements), limit 8"},
		{Limits{MaxLineBytes: 8}, "-ERR " + strings.Repeat("x", 100), "reply broke max_line_bytes: error line of 105 bytes or more, limit 8"},
		{Limits{}, "(" + strings.Repeat("9", 200) + "\r\n", "reply broke max_line_bytes: big number line of 203 bytes or more, limit 128"},
		{Limits{MaxReplyBytes: 100}, "$96\r\n", "reply broke max_reply_bytes: 103 bytes or more since the last command, limit 100"},
		{Limits{MaxReplyBytes: 10}, "+OK\r\n+OK\r\n+OK\r\n", "reply broke max_reply_bytes: 15 bytes or more since the last command, limit 10"},
		{Limits{MaxReplyBytes: 1000}, "*40\r\n", "reply broke max_reply_bytes: 1405 bytes or more since the last command (40 elements at 32 bytes each), limit 1000"},
		{Limits{MaxReplyBytes: 100}, "*1\r\n%2\r\n", "reply broke max_reply_bytes: 180 bytes or more since the last command (5 elements at 32 bytes each), limit 100"},
		{Limits{MaxReplyBytes: 100}, "*1\r\n+" + strings.Repeat("a", 100), "reply broke max_reply_bytes: 137 bytes or more since the last command (1 element at 32 bytes each), limit 100"},
		{Limits{}, "+OK\r\nHTTP/1.1 400 Bad Request\r\n", "reply is not RESP at byte 5 since the last command: unknown type byte 'H'"},
		{Limits{}, "$12\x00\r\n", `reply is not RESP at byte 3 since the last command: '\x00' in a bulk string length`},
		{Limits{}, "*99999999999999999999\r\n", "reply is not RESP at byte 19 since the last command: array length overflows int64"},
	}
	for _, tc := range tests {
		_, err := readAll(t, Guard(&stubConn{data: []byte(tc.in)}, tc.lim, 1))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.in, err, tc.want)
		}
	}
}

func TestGuardReplyBudgetIsPerRoundTrip(t *testing.T) {
	for _, replies := range []string{
		strings.Repeat(":1\r\n", 20),      // 80 bytes
		strings.Repeat("*1\r\n:1\r\n", 2), // 16 bytes and 2 elements: 80
	} {
		for _, write := range []bool{true, false} {
			t.Run(fmt.Sprintf("%q/write=%v", replies[:4], write), func(t *testing.T) {
				size := len(replies)
				stub := &stubConn{data: []byte(replies + replies), sizes: []int{size}}
				g := Guard(stub, Limits{MaxReplyBytes: 100}, 1)
				buf := make([]byte, 100)
				if _, err := g.Write([]byte("PING\r\n")); err != nil {
					t.Fatal(err)
				}
				if n, err := g.Read(buf); n != size || err != nil {
					t.Fatalf("first round trip: %d, %v", n, err)
				}
				if write {
					if _, err := g.Write([]byte("PING\r\n")); err != nil {
						t.Fatal(err)
					}
				}
				n, err := g.Read(buf)
				switch {
				case write && (n != size || err != nil):
					t.Errorf("second round trip: %d, %v; want %d bytes", n, err, size)
				case !write:
					if n != 0 {
						t.Errorf("passed %d bytes past the budget", n)
					}
					checkViolation(t, err, "max_reply_bytes")
				}
			})
		}
	}
}

// TestGuardChargesElements checks replies that cost just their budget: the
// bytes, and 32 per aggregate element declared.
func TestGuardChargesElements(t *testing.T) {
	tests := []struct {
		in    string
		elems int64
	}{
		{"*2\r\n:1\r\n:2\r\n", 2},
		{"%1\r\n+a\r\n$1\r\nb\r\n", 2},
		{"*2\r\n*1\r\n:1\r\n*0\r\n", 3},
		{"*1\r\n|1\r\n+k\r\n+v\r\n:1\r\n", 3},
		{"*-1\r\n*0\r\n$-1\r\n", 0},
	}
	for _, tc := range tests {
		cost := int64(len(tc.in)) + 32*tc.elems
		for _, sizes := range chunkings {
			t.Run(fmt.Sprintf("%q/%v", tc.in, sizes), func(t *testing.T) {
				got, err := readAll(t, Guard(&stubConn{data: []byte(tc.in), sizes: sizes}, Limits{MaxReplyBytes: cost}, 1))
				if err != io.EOF || string(got) != tc.in {
					t.Errorf("budget %d: passed %q, err %v; want all, EOF", cost, got, err)
				}
				_, err = readAll(t, Guard(&stubConn{data: []byte(tc.in), sizes: sizes}, Limits{MaxReplyBytes: cost - 1}, 1))
				checkViolation(t, err, "max_reply_bytes")
			})
		}
	}
}

func TestLimitsWithDefaults(t *testing.T) {
	if got := (Limits{}).WithDefaults(); got != DefaultLimits {
		t.Errorf("zero limits: %+v, want %+v", got, DefaultLimits)
	}
	l := Limits{MaxBulkBytes: 1, MaxAggregateLength: 2, MaxLineBytes: 3, MaxReplyBytes: 4}
	if got := l.WithDefaults(); got != l {
		t.Errorf("%+v became %+v", l, got)
	}
	if got := (Limits{MaxLineBytes: 7}).WithDefaults(); got.MaxLineBytes != 7 || got.MaxBulkBytes != DefaultLimits.MaxBulkBytes {
		t.Errorf("one field set: %+v", got)
	}
}

func TestGuardReadDoesNotAllocate(t *testing.T) {
	reply := infoReply(t)
	stub := &stubConn{data: reply, sizes: []int{1000}}
	g := Guard(stub, Limits{}, 1)
	buf := make([]byte, 4096)
	cmd := []byte("*1\r\n$4\r\nINFO\r\n")
	allocs := testing.AllocsPerRun(100, func() {
		stub.pos = 0
		_, _ = g.Write(cmd)
		for {
			if _, err := g.Read(buf); err != nil {
				if err != io.EOF {
					t.Fatal(err)
				}
				return
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per round trip, want 0", allocs)
	}
}

// TestGuardKeepsSyscallConn checks that go-redis's pool can still peek at
// an idle guarded TCP connection: only through syscall.Conn does it see that
// the target closed it, and drop it rather than fail the next probe.
func TestGuardKeepsSyscallConn(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, ok := Guard(a, Limits{}, 1).(syscall.Conn); ok {
		t.Error("a guarded pipe has SyscallConn")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := Guard(c, Limits{}, 1).(syscall.Conn); !ok {
		t.Error("a guarded TCP connection lost SyscallConn")
	}
}

// guardedClient is a go-redis client to addr whose connections are guarded
// by lim, closed when the test ends.
func guardedClient(t *testing.T, addr string, protocol int, lim Limits) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr: addr, Protocol: protocol, DisableIdentity: true, MaxRetries: -1, ContextTimeoutEnabled: true,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return Guard(c, lim, 1), nil
		},
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestGuardStopsHostileServers(t *testing.T) {
	tests := []struct {
		name   string
		behave redistest.Behaviour
		limit  string
	}{
		{"huge array", redistest.HugeArray, "max_aggregate_length"},
		{"huge bulk", redistest.HugeBulk, "max_bulk_bytes"},
		{"dribble", redistest.Dribble, "max_bulk_bytes"},
		{"flood", redistest.Flood, "max_reply_bytes"},
		{"endless line", redistest.EndlessLine, "max_line_bytes"},
		{"long error", redistest.LongError, "max_line_bytes"},
		{"not RESP", redistest.Send("HTTP/1.1 400 Bad Request\r\n\r\n"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := redistest.StartHostile(t, tc.behave)
			c := guardedClient(t, addr, 2, Limits{})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// Do reads whatever the reply is; a typed command would stop
			// at a header of the wrong type.
			_, err := c.Do(ctx, "PING").Result()
			checkViolation(t, err, tc.limit)
		})
	}
	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		addr := redistest.StartHostile(t, redistest.Silent)
		c := guardedClient(t, addr, 2, Limits{})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := c.Do(ctx, "PING").Result()
		var le *LimitError
		var ne net.Error
		timeout := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
		if errors.As(err, &le) || !timeout {
			t.Errorf("err %v, want a timeout", err)
		}
	})
}

func TestGuardUnderGoRedisAgainstRedis(t *testing.T) {
	s := redistest.StartRedis(t, "--enable-debug-command", "yes")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin := s.Client(t)
	big := strings.Repeat("v", 1<<20)
	if err := admin.Set(ctx, "big", big, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.HSet(ctx, "h", "a", "1", "b", "2").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.SAdd(ctx, "s", "x", "y", "z").Err(); err != nil {
		t.Fatal(err)
	}

	for _, protocol := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", protocol), func(t *testing.T) {
			c := guardedClient(t, s.Addr(), protocol, Limits{})
			plain := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: protocol, DisableIdentity: true, MaxRetries: -1})
			defer plain.Close()

			if got, err := c.Get(ctx, "big").Result(); err != nil || got != big {
				t.Errorf("GET big: %d bytes, %v", len(got), err)
			}
			if info, err := c.Info(ctx, "all").Result(); err != nil || !strings.Contains(info, "redis_version:") {
				t.Errorf("INFO ALL: %v", err)
			}
			cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i := range 100 {
					p.Set(ctx, "k"+strconv.Itoa(i), i, 0)
					p.Get(ctx, "k"+strconv.Itoa(i))
				}
				p.ClientList(ctx)
				p.ConfigGet(ctx, "*")
				p.Do(ctx, "COMMAND", "DOCS", "GET")
				return nil
			})
			if err != nil {
				t.Errorf("pipeline of %d commands: %v", len(cmds), err)
			}
			// Every reply type a real server makes, read through the guard
			// and not, must come out the same.
			types := []string{"string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "verbatim", "true", "false"}
			for _, typ := range types {
				want, wantErr := plain.Do(ctx, "DEBUG", "PROTOCOL", typ).Result()
				got, err := c.Do(ctx, "DEBUG", "PROTOCOL", typ).Result()
				if fmt.Sprint(got, err) != fmt.Sprint(want, wantErr) {
					t.Errorf("DEBUG PROTOCOL %s: %v, %v; unguarded %v, %v", typ, got, err, want, wantErr)
				}
			}
			for _, cmd := range [][]any{{"HGETALL", "h"}, {"SMEMBERS", "s"}, {"CONFIG", "GET", "max*"}, {"COMMAND", "INFO", "GET"}} {
				want, wantErr := plain.Do(ctx, cmd...).Result()
				got, err := c.Do(ctx, cmd...).Result()
				if err != nil || fmt.Sprint(got, err) != fmt.Sprint(want, wantErr) {
					t.Errorf("%v: %v, %v; unguarded %v, %v", cmd, got, err, want, wantErr)
				}
			}
		})
	}

	t.Run("limits", func(t *testing.T) {
		c := guardedClient(t, s.Addr(), 2, Limits{MaxBulkBytes: 1000})
		_, err := c.Get(ctx, "big").Result()
		checkViolation(t, err, "max_bulk_bytes")
		// The broken connection is gone; the next command gets a new one.
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("PING after a violation: %v", err)
		}
		c = guardedClient(t, s.Addr(), 2, Limits{MaxReplyBytes: 4000})
		_, err = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for range 10 {
				p.Info(ctx, "server") // about 1 KB each
			}
			return nil
		})
		checkViolation(t, err, "max_reply_bytes")
	})

	t.Run("idle connection closed by the server", func(t *testing.T) {
		c := guardedClient(t, s.Addr(), 2, Limits{})
		id, err := c.ClientID(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := admin.ClientKillByFilter(ctx, "ID", strconv.FormatInt(id, 10)).Err(); err != nil {
			t.Fatal(err)
		}
		redistest.WaitFor(t, 5*time.Second, func() error {
			list, err := admin.ClientList(ctx).Result()
			if err == nil && strings.Contains(list, "id="+strconv.FormatInt(id, 10)+" ") {
				err = errors.New("still connected")
			}
			return err
		}, nil)
		// MaxRetries is -1: only the pool's peek at the idle connection,
		// through the guard, keeps this from failing with EOF.
		if err := c.Ping(ctx).Err(); err != nil {
			t.Errorf("PING after the server closed the idle connection: %v", err)
		}
	})
}

// infoReply is a bulk reply of about 50 KB of INFO ALL: the recorded one,
// with as many commandstats lines as a busy server has.
func infoReply(t testing.TB) []byte {
	rec, err := os.ReadFile("../info/testdata/info_all_master.txt")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(strings.TrimSpace(string(rec)), "\n", "\r\n"))
	b.WriteString("\r\n\r\n# Commandstats\r\n")
	for i := 0; b.Len() < 50<<10; i++ {
		fmt.Fprintf(&b, "cmdstat_command%d:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=0,failed_calls=%d\r\n", i, 1000+i*37, 52000+i*91, float64(52000+i*91)/float64(1000+i*37), i%7)
	}
	body := b.String()
	return []byte("$" + strconv.Itoa(len(body)) + "\r\n" + body + "\r\n")
}

// arrayReply is an array of about 50 KB of short bulk strings, as CONFIG
// GET * sends: a header every 20 bytes or so.
func arrayReply() []byte {
	var body bytes.Buffer
	n := 0
	for ; body.Len() < 50<<10; n++ {
		v := "value-" + strconv.Itoa(n)
		fmt.Fprintf(&body, "$%d\r\n%s\r\n", len(v), v)
	}
	return append([]byte("*"+strconv.Itoa(n)+"\r\n"), body.Bytes()...)
}

// BenchmarkGuard reads a 50 KB INFO reply, and a 50 KB array of short
// strings, through the guard and through the bare connection as the floor,
// in reads of a few sizes, one command written before each reply.
func BenchmarkGuard(b *testing.B) {
	replies := []struct {
		name  string
		reply []byte
	}{{"info", infoReply(b)}, {"array", arrayReply()}}
	cmd := []byte("*2\r\n$4\r\nINFO\r\n$3\r\nALL\r\n")
	var discard io.Writer = struct{ io.Writer }{io.Discard} // no ReadFrom: reads go through buf
	buf := make([]byte, 32<<10)
	for _, r := range replies {
		for _, size := range []int{512, 4096, 32 << 10} {
			for _, guarded := range []bool{false, true} {
				name := "floor"
				if guarded {
					name = "guard"
				}
				reply := r.reply
				b.Run(fmt.Sprintf("%s/read=%d/%s", r.name, size, name), func(b *testing.B) {
					stub := &stubConn{data: reply, sizes: []int{size}}
					var c net.Conn = stub
					if guarded {
						c = Guard(stub, Limits{}, 1)
					}
					b.SetBytes(int64(len(reply)))
					b.ReportAllocs()
					for b.Loop() {
						stub.pos = 0
						_, _ = c.Write(cmd)
						if _, err := io.CopyBuffer(discard, c, buf); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// FuzzGuard reads arbitrary bytes in arbitrary reads through guards with
// small limits and checks them against refCheck: valid RESP passes unchanged,
// and a violation is refused, with the right error, before the byte that
// decides it is passed on.
func FuzzGuard(f *testing.F) {
	for _, tc := range validReplies {
		f.Add([]byte(tc.resp), []byte{0})
		f.Add([]byte(tc.resp), []byte{2, 0, 5})
	}
	for _, s := range []string{
		"*1000000000000\r\n", "$1000000000000\r\n", "$9223372036854775807\r\n", "$99999999999999999999\r\n",
		"%5\r\n", "|4\r\n+a\r\n+b\r\n", "*100\r\n", "*3\r\n*40\r\n", "$600\r\n", "+" + strings.Repeat("a", 40) + "\r\n",
		strings.Repeat("+OK\r\n", 120), "$-2\r\n", "%-1\r\n", "$3\r\nfooXY", "+OK\n", "HTTP/1.1 200 OK\r\n",
		"*2\r\n$3\r\nfoo\r\n*1\r\n|1\r\n+k\r\n+v\r\n:1\r\n",
		// Near the tiny limits' reply budget: what is owed adds up.
		"*4\r\n*4\r\n$16\r\n0123456789abcdef\r\n", "*8\r\n*8\r\n$16\r\n", "*3\r\n$16\r\n0123456789abcdef\r\n$9\r\n",
		"%2\r\n+a\r\n*6\r\n", "*2\r\n|2\r\n+a\r\n+b\r\n", "$16\r\n0123456789abcdef\r\n$16\r\n0123456789abcdef\r\n$8\r\n",
		// Elements held: each aggregate element costs 32 at its header.
		"*1\r\n*1\r\n:1\r\n", "*1\r\n+" + strings.Repeat("a", 40) + "\n", "*2\r\n:1\r\n:2\r\n*1\r\n",
		"*8\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n:8\r\n", "%1\r\n+a\r\n*2\r\n$8\r\n01234567\r\n",
	} {
		f.Add([]byte(s), []byte{})
		f.Add([]byte(s), []byte{0})
	}
	// Small limits, that the seeds fit, and tiny ones, that let short
	// inputs reach every limit and how they combine.
	limits := []Limits{
		{MaxBulkBytes: 64, MaxAggregateLength: 8, MaxLineBytes: 64, MaxReplyBytes: 512},
		{MaxBulkBytes: 16, MaxAggregateLength: 8, MaxLineBytes: 12, MaxReplyBytes: 64},
	}
	f.Fuzz(func(t *testing.T, data, reads []byte) {
		sizes := make([]int, len(reads))
		for i, r := range reads {
			sizes[i] = int(r)%32 + 1
		}
		// And a reply budget that ends near what data costs, where a
		// header's early refusal is decided by a few bytes.
		near := Limits{MaxBulkBytes: 64, MaxAggregateLength: 8, MaxLineBytes: 64}
		near.MaxReplyBytes = int64(len(data)) + refHeld(data, near)
		if len(reads) > 0 {
			near.MaxReplyBytes += int64(reads[0]%16) - 8
		}
		near.MaxReplyBytes = max(near.MaxReplyBytes, 1)
		for _, lim := range append(limits[:len(limits):len(limits)], near) {
			stub := &stubConn{data: data, sizes: sizes}
			g := Guard(stub, lim, 1)
			got, err := readAll(t, g)
			if !bytes.HasPrefix(data, got) {
				t.Fatalf("passed %q, not a prefix of %q", got, data)
			}
			kind, at := refCheck(data, lim)
			if kind == "" {
				if err != io.EOF || len(got) != len(data) {
					t.Fatalf("%+v: valid RESP %q: passed %d of %d bytes, err %v", lim, data, len(got), len(data), err)
				}
				continue
			}
			if kind == "protocol" {
				kind = ""
			}
			checkViolation(t, err, kind)
			if len(got) > at {
				t.Fatalf("%+v: %q: passed %d bytes; byte %d decides %v", lim, data, len(got), at, err)
			}
			if !stub.closed {
				t.Fatal("the connection is still open")
			}
			if n, again := g.Read(make([]byte, 8)); n != 0 || again != err {
				t.Fatalf("next Read: %d, %v; want 0, %v", n, again, err)
			}
		}
	})
}

// refCheck is the fuzz target's oracle: a recursive parser of a whole
// buffer, written apart from the guard's incremental one. It returns "" if
// b is RESP, or the start of RESP, within lim; else the limit broken
// ("protocol" for framing) and the offset of the byte that decides it.
// The reply budget is charged 1 per byte, and elementCost per aggregate
// element at its header, so that it ends elementCost bytes sooner for each.
func refCheck(b []byte, lim Limits) (kind string, at int) {
	r := &refParser{b: b, lim: lim}
	for pos := 0; pos < len(b); {
		end, v := r.value(pos, 0)
		if v != nil {
			if v.kind != "incomplete" && int64(v.at) < lim.MaxReplyBytes-r.held {
				return v.kind, v.at
			}
			break
		}
		pos = end
	}
	if int64(len(b)) > lim.MaxReplyBytes-r.held {
		return "max_reply_bytes", int(lim.MaxReplyBytes - r.held)
	}
	return "", 0
}

// refHeld is what the aggregates b declares cost, as far as b parses
// within lim but for its reply budget.
func refHeld(b []byte, lim Limits) int64 {
	lim.MaxReplyBytes = math.MaxInt64 / 2
	r := &refParser{b: b, lim: lim}
	for pos := 0; pos < len(b); {
		end, v := r.value(pos, 0)
		if v != nil {
			break
		}
		pos = end
	}
	return r.held
}

type refViolation struct {
	kind string // a limit, "protocol", or "incomplete" when b ends first
	at   int
}

type refParser struct {
	b    []byte
	lim  Limits
	held int64 // elementCost per aggregate element declared so far
}

// value parses the value at pos, after which the enclosing aggregates are
// owed owed bytes or more, and returns the offset after it.
func (r *refParser) value(pos int, owed int64) (int, *refViolation) {
	b, lim := r.b, r.lim
	incomplete := &refViolation{kind: "incomplete"}
	if pos >= len(b) {
		return 0, incomplete
	}
	switch t := b[pos]; t {
	case '+', '-', ':', ',', '(', '#', '_':
		for k := pos + 1; ; k++ {
			switch {
			case k >= len(b):
				return 0, incomplete
			case int64(k-pos+1) > lim.MaxLineBytes:
				return 0, &refViolation{"max_line_bytes", k}
			case b[k] == '\n' && b[k-1] != '\r':
				return 0, &refViolation{"protocol", k}
			case b[k] == '\n':
				return k + 1, nil
			}
		}
	case '$', '=', '!', '*', '~', '>', '%', '|':
		n, e, v := r.length(pos)
		if v != nil {
			return 0, v
		}
		if n == -1 {
			return e, nil
		}
		bulk := t == '$' || t == '=' || t == '!'
		if bulk && n > lim.MaxBulkBytes {
			return 0, &refViolation{"max_bulk_bytes", e - 1}
		}
		if bulk {
			if int64(e)+r.held+n+2+owed > lim.MaxReplyBytes {
				return 0, &refViolation{"max_reply_bytes", e - 1}
			}
			cr := e + int(n)
			for k, want := range []byte{'\r', '\n'} {
				switch {
				case cr+k >= len(b):
					return 0, incomplete
				case b[cr+k] != want:
					return 0, &refViolation{"protocol", cr + k}
				}
			}
			return cr + 2, nil
		}
		if n > lim.MaxAggregateLength || (t == '%' || t == '|') && 2*n > lim.MaxAggregateLength {
			return 0, &refViolation{"max_aggregate_length", e - 1}
		}
		elems := n
		if t == '%' || t == '|' {
			elems = 2 * n
		}
		after := owed
		if t == '|' {
			after += 3 // the value the attribute describes
		}
		if int64(e)+r.held+elementCost*elems+3*elems+after > lim.MaxReplyBytes {
			return 0, &refViolation{"max_reply_bytes", e - 1}
		}
		r.held += elementCost * elems
		pos = e
		for k := int64(0); k < elems; k++ {
			if pos, v = r.value(pos, after+3*(elems-1-k)); v != nil {
				return 0, v
			}
		}
		if t == '|' {
			return r.value(pos, owed)
		}
		return pos, nil
	}
	return 0, &refViolation{"protocol", pos}
}

// length parses the header line at pos: -1 (for $ and * only) or digits,
// then CRLF. It returns the length and the offset after the LF.
func (r *refParser) length(pos int) (int64, int, *refViolation) {
	b, lim := r.b, r.lim
	var n int64
	text := []byte{}
	for k := pos + 1; ; k++ {
		if k >= len(b) {
			return 0, 0, &refViolation{kind: "incomplete"}
		}
		if int64(k-pos+1) > lim.MaxLineBytes {
			return 0, 0, &refViolation{"max_line_bytes", k}
		}
		c := b[k]
		bad := &refViolation{"protocol", k}
		switch s := string(text); {
		case s == "-1\r" || len(s) > 0 && s[len(s)-1] == '\r':
			if c != '\n' {
				return 0, 0, bad
			}
			if s == "-1\r" {
				return -1, k + 1, nil
			}
			return n, k + 1, nil
		case s == "-":
			if c != '1' {
				return 0, 0, bad
			}
		case s == "-1":
			if c != '\r' {
				return 0, 0, bad
			}
		case s == "" && c == '-':
			if b[pos] != '$' && b[pos] != '*' {
				return 0, 0, bad
			}
		case c >= '0' && c <= '9':
			if n > (math.MaxInt64-int64(c-'0'))/10 {
				return 0, 0, bad
			}
			n = n*10 + int64(c-'0')
		case c == '\r' && s != "":
		default:
			return 0, 0, bad
		}
		text = append(text, c)
	}
}
