package conn

import (
	"errors"
	"io"
	"testing"
	"time"
)

// deadlineConn records the read deadlines set on it.
type deadlineConn struct {
	*stubConn
	deadlines []time.Time
}

func (d *deadlineConn) SetReadDeadline(t time.Time) error {
	d.deadlines = append(d.deadlines, t)
	return nil
}

// A round trip on a connection idle for a second or more has 1/attempts of
// the time left to start answering; its first byte gives the whole
// deadline back. A busy connection, or one attempt, keeps the deadline.
func TestAnswerWait(t *testing.T) {
	for _, tc := range []struct {
		name     string
		attempts int
		idle     time.Duration
		shorter  bool
	}{
		{"idle, 2 attempts", 2, 2 * time.Second, true},
		{"idle, 4 attempts", 4, 2 * time.Second, true},
		{"busy, 2 attempts", 2, 0, false},
		{"idle, 1 attempt", 1, 2 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &deadlineConn{stubConn: &stubConn{data: []byte("+PONG\r\n")}}
			g := Guard(c, Limits{}, tc.attempts).(*guard)
			g.answer.lastRead = time.Now().Add(-tc.idle)
			if _, err := g.Write([]byte("PING\r\n")); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(4 * time.Second)
			if err := g.SetReadDeadline(deadline); err != nil {
				t.Fatal(err)
			}
			set := c.deadlines[0]
			want := deadline
			if tc.shorter {
				want = time.Now().Add(4 * time.Second / time.Duration(tc.attempts))
			}
			if d := set.Sub(want).Abs(); d > 100*time.Millisecond {
				t.Errorf("read deadline %s from now, want %s", time.Until(set).Round(time.Millisecond), time.Until(want).Round(time.Millisecond))
			}
			if _, err := g.Read(make([]byte, 16)); err != nil {
				t.Fatal(err)
			}
			if tc.shorter && (len(c.deadlines) != 2 || !c.deadlines[1].Equal(deadline)) {
				t.Errorf("after the first byte, deadlines %v, want the full %v back", c.deadlines, deadline)
			}
			if !tc.shorter && len(c.deadlines) != 1 {
				t.Errorf("deadlines %v set, want only the one go-redis set", c.deadlines)
			}
		})
	}
}

// A connection that fails before answering a round trip it got after
// idling says so with an IdleConnError, which a probe may retry; one that
// fails in a busy round trip (a fresh connection's) gives the plain error.
func TestIdleConnError(t *testing.T) {
	for _, idle := range []time.Duration{2 * time.Second, 0} {
		g := Guard(&stubConn{}, Limits{}, 2).(*guard) // no data: Read gives EOF
		g.answer.lastRead = time.Now().Add(-idle)
		if _, err := g.Write([]byte("PING\r\n")); err != nil {
			t.Fatal(err)
		}
		_, err := g.Read(make([]byte, 16))
		var ie *IdleConnError
		if errors.As(err, &ie) != (idle > 0) || !errors.Is(err, io.EOF) {
			t.Errorf("idle %s: Read error %#v, want EOF, as an IdleConnError only after idling", idle, err)
		}
	}
}
