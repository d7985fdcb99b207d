package redistest

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Behaviour is what a hostile server does on a connection once the client's
// first request has arrived: it writes what it likes to c and returns, or
// returns when a write fails. The requests keep being read and discarded
// meanwhile, and c stays open after the behaviour returns, silent, until the
// client or the test's cleanup closes it.
type Behaviour func(c net.Conn)

// StartHostile is the one stand-in server here: it plays protocol abuse that
// no real Redis produces (lying lengths, endless lines, floods), for the
// tests of what bounds a reply. It listens on a free loopback port and runs
// behave on each connection it accepts. The listener and every connection
// are closed, and their goroutines joined, when the test ends.
func StartHostile(t testing.TB, behave Behaviour) (addr string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hostile{l: l, behave: behave, conns: map[net.Conn]struct{}{}}
	h.wg.Add(1)
	go h.accept()
	t.Cleanup(h.close)
	return l.Addr().String()
}

type hostile struct {
	l      net.Listener
	behave Behaviour
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func (h *hostile) accept() {
	defer h.wg.Done()
	for {
		c, err := h.l.Accept()
		if err != nil {
			return // the listener is closed
		}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			_ = c.Close()
			return
		}
		h.conns[c] = struct{}{}
		h.wg.Add(1)
		h.mu.Unlock()
		go h.serve(c)
	}
}

func (h *hostile) serve(c net.Conn) {
	defer h.wg.Done()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		_ = c.Close()
	}()
	// Answer only once asked: bytes that arrive before the first request
	// make a client's pool drop the connection as unhealthy.
	var buf [4096]byte
	if _, err := c.Read(buf[:]); err != nil {
		return
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, c)
		_ = c.Close() // the client hung up: stop the behaviour's writes
	}()
	h.behave(c)
	<-drained
}

func (h *hostile) close() {
	h.mu.Lock()
	h.closed = true
	for c := range h.conns {
		_ = c.Close()
	}
	h.mu.Unlock()
	_ = h.l.Close()
	h.wg.Wait()
}

// Send returns a behaviour that writes b once, then stays silent.
func Send(b string) Behaviour {
	return func(c net.Conn) { _, _ = io.WriteString(c, b) }
}

// Behaviours for the tests of reply limits. Each starts once the first
// request has arrived.
var (
	// HugeArray declares an array of 10¹² elements and sends none.
	HugeArray = Send("*1000000000000\r\n")
	// HugeBulk declares a bulk string of 10¹² bytes and sends none.
	HugeBulk = Send("$1000000000000\r\n")
	// Silent reads the requests and never answers.
	Silent = Behaviour(func(net.Conn) {})
)

// Dribble declares a bulk string of 2 GB, then sends one byte of it every
// 100 ms.
func Dribble(c net.Conn) {
	if _, err := io.WriteString(c, "$2000000000\r\n"); err != nil {
		return
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		if _, err := c.Write([]byte{'x'}); err != nil {
			return
		}
	}
}

// Flood sends, as fast as the client reads, an array of 100,000 bulk
// strings of 64 KiB each: 6 GiB of valid RESP, each value within the
// default limits, so only the reply budget of the round trip bounds it.
// go-redis reads it to the end only for a command it reads generically
// (Do); a typed command (PING) gives up at the array header.
func Flood(c net.Conn) {
	if _, err := io.WriteString(c, "*100000\r\n"); err != nil {
		return
	}
	bulk := []byte("$65536\r\n" + strings.Repeat("x", 65536) + "\r\n")
	for range 100000 {
		if _, err := c.Write(bulk); err != nil {
			return
		}
	}
}

// EndlessLine starts a simple string and never ends it.
func EndlessLine(c net.Conn) {
	if _, err := io.WriteString(c, "+"); err != nil {
		return
	}
	writeForever(c, 'a')
}

// LongError sends an error line of 10 MiB.
func LongError(c net.Conn) {
	b := make([]byte, 0, 10<<20+7)
	b = append(b, "-ERR "...)
	b = append(b, bytes.Repeat([]byte{'e'}, 10<<20)...)
	b = append(b, "\r\n"...)
	_, _ = c.Write(b)
}

func writeForever(c net.Conn, fill byte) {
	b := bytes.Repeat([]byte{fill}, 64<<10)
	for {
		if _, err := c.Write(b); err != nil {
			return
		}
	}
}
