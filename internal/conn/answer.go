package conn

import (
	"net"
	"sync"
	"time"
)

// idleBefore is how long a connection must have been silent for its next
// round trip to be suspect: long enough that a middlebox may have dropped
// it without a word. Round trips of one probe follow each other at once; a
// fresh connection answers its handshake at once.
const idleBefore = time.Second

// answerWait is the time a connection that was idle has to start answering
// a round trip: 1/share of the time left to the read deadline, so that a
// connection a middlebox silently dropped, whose reads would hang until
// the deadline, fails in time for share-1 more attempts on another
// connection. Once the first byte arrives the full deadline is back: a
// slow but live Redis keeps the whole deadline.
type answerWait struct {
	share int

	mu       sync.Mutex
	lastRead time.Time // when the last byte arrived, or the connection was made
	waiting  bool      // written after idling, and no byte of the answer back yet
	deadline time.Time // the read deadline go-redis set
}

// wrote notes a round trip's request, and reports whether the connection
// had idled.
func (a *answerWait) wrote() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.waiting = time.Since(a.lastRead) >= idleBefore
	return a.waiting
}

// awaited reports whether the round trip began after idling and no byte of
// its answer has come.
func (a *answerWait) awaited() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.waiting
}

// readDeadline is the deadline to set on the connection for t: t, or
// sooner while the first byte of an idle connection's answer is awaited.
func (a *answerWait) readDeadline(t time.Time) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deadline = t
	if a.waiting && a.share > 1 && !t.IsZero() {
		if left := time.Until(t); left > 0 {
			return time.Now().Add(left / time.Duration(a.share))
		}
	}
	return t
}

// read notes bytes that arrived, and gives c back the full deadline if they
// are the first of an awaited answer.
func (a *answerWait) read(c net.Conn) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastRead = time.Now()
	if !a.waiting {
		return nil
	}
	a.waiting = false
	if a.share <= 1 {
		return nil // the deadline was never shortened
	}
	return c.SetReadDeadline(a.deadline)
}

// SetReadDeadline sets t, or sooner while an idle connection's answer is
// awaited (see answerWait).
func (g *guard) SetReadDeadline(t time.Time) error {
	return g.Conn.SetReadDeadline(g.answer.readDeadline(t))
}

// SetDeadline sets both deadlines, the read one as SetReadDeadline does.
func (g *guard) SetDeadline(t time.Time) error {
	if err := g.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return g.SetReadDeadline(t)
}

// IdleConnError is a connection's failure in a round trip that began after
// the connection idled, before any byte of the answer came: the connection
// may have died while idle (a middlebox dropped it, the server closed it),
// so another connection may succeed. It keeps the error's net.Error
// methods.
type IdleConnError struct{ Err error }

func (e *IdleConnError) Error() string { return "connection idle before the request: " + e.Err.Error() }
func (e *IdleConnError) Unwrap() error { return e.Err }

// Timeout reports whether the answer did not come in time.
func (e *IdleConnError) Timeout() bool {
	ne, ok := e.Err.(net.Error)
	return ok && ne.Timeout()
}

// Temporary is false: net.Error wants it; it is deprecated.
func (e *IdleConnError) Temporary() bool { return false }
