package clientlist

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// testdata/client_list.txt is `redis-cli CLIENT LIST` on a Redis 7.0.15
// master with: an admin connection named "admin"; "waiter" blocked in BLPOP
// on db 3; "worker-1", which had just sent PING; "web-1" logged in as the
// ACL user "app"; "slow-writer", 300000 bytes into a 1 MB SET argument;
// "news-reader" subscribed to two channels and one pattern; "batch" with two
// commands queued in MULTI; a replica (flags S, cmd psync); "slow-reader",
// which sent four GETs of an 8 MiB value and reads nothing; a connection that
// sent nothing; and redis-cli itself (cmd client|list). Redis 7.0.15 also
// prints rbs= and rbp=, which this package does not know.
func TestParseRecorded(t *testing.T) {
	text, err := os.ReadFile("testdata/client_list.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(string(text))
	if err != nil {
		t.Fatal(err)
	}
	const laddr = "127.0.0.1:44165"
	want := []Client{
		{ID: 4, Addr: "127.0.0.1:43014", LAddr: laddr, FD: 8, Name: "admin", Age: 4, Idle: 3, Flags: "N", Multi: -1, QueryBufFree: 40, TotalMem: 1840, Events: "r", Cmd: "client|setname", User: "default", Redir: -1, Resp: 2},
		{ID: 9, Addr: "127.0.0.1:43040", LAddr: laddr, FD: 13, Name: "waiter", Age: 3, Idle: 3, Flags: "b", DB: 3, Multi: -1, ArgvMem: 11, TotalMem: 1835, Events: "r", Cmd: "blpop", User: "default", Redir: -1, Resp: 2},
		{ID: 5, Addr: "127.0.0.1:43020", LAddr: laddr, FD: 9, Name: "worker-1", Age: 3, Idle: 0, Flags: "N", Multi: -1, QueryBufFree: 20474, TotalMem: 22272, Events: "r", Cmd: "ping", User: "default", Redir: -1, Resp: 2},
		{ID: 6, Addr: "127.0.0.1:43024", LAddr: laddr, FD: 10, Name: "web-1", Age: 3, Idle: 3, Flags: "N", Multi: -1, TotalMem: 1800, Events: "r", Cmd: "client|setname", User: "app", Redir: -1, Resp: 2},
		{ID: 10, Addr: "127.0.0.1:43046", LAddr: laddr, FD: 14, Name: "slow-writer", Age: 3, Idle: 3, Flags: "N", Multi: -1, QueryBuf: 300000, ArgvMem: 6, TotalMem: 329494, Events: "r", Cmd: "client|setname", User: "default", Redir: -1, Resp: 2},
		{ID: 7, Addr: "127.0.0.1:43030", LAddr: laddr, FD: 11, Name: "news-reader", Age: 3, Idle: 3, Flags: "P", Sub: 2, PSub: 1, Multi: -1, TotalMem: 1904, Events: "r", Cmd: "psubscribe", User: "default", Redir: -1, Resp: 2},
		{ID: 8, Addr: "127.0.0.1:43038", LAddr: laddr, FD: 12, Name: "batch", Age: 3, Idle: 3, Flags: "x", Multi: 2, MultiMem: 50, TotalMem: 1898, Events: "r", Cmd: "incr", User: "default", Redir: -1, Resp: 2},
		{ID: 3, Addr: "127.0.0.1:43004", LAddr: laddr, FD: 7, Name: "", Age: 4, Idle: 4, Flags: "S", Multi: -1, TotalMem: 1800, Events: "r", Cmd: "psync", User: "default", Redir: -1, Resp: 2},
		{ID: 11, Addr: "127.0.0.1:43056", LAddr: laddr, FD: 15, Name: "slow-reader", Age: 3, Idle: 3, Flags: "N", Multi: -1, OutputList: 4, OutputMem: 33554528, TotalMem: 33556328, Events: "rw", Cmd: "get", User: "default", Redir: -1, Resp: 2},
		{ID: 12, Addr: "127.0.0.1:43072", LAddr: laddr, FD: 16, Name: "", Age: 3, Idle: 3, Flags: "N", Multi: -1, QueryBufFree: 4, TotalMem: 1800, Events: "r", Cmd: "NULL", User: "default", Redir: -1, Resp: 2},
		{ID: 13, Addr: "127.0.0.1:43086", LAddr: laddr, FD: 17, Name: "", Age: 0, Idle: 0, Flags: "N", Multi: -1, QueryBuf: 26, QueryBufFree: 20448, ArgvMem: 10, TotalMem: 37658, Events: "r", Cmd: "client|list", User: "default", Redir: -1, Resp: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %d clients, want %d", len(got), len(want))
	}
	for i := range got {
		for _, f := range fields {
			if !got[i].Has(f) {
				t.Errorf("client %d: Redis 7.0 prints %s, Has says no", got[i].ID, f)
			}
		}
		for _, f := range []string{"rbs", "rbp", "nonsense"} {
			if got[i].Has(f) {
				t.Errorf("client %d: Has(%q) for a field the package does not know", got[i].ID, f)
			}
		}
		g := got[i]
		g.has = 0
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("client %d:\n got %+v\nwant %+v", i, g, want[i])
		}
	}
}

// An older Redis (5.0) prints fewer fields: those it lacks are zero and Has
// says they were missing.
func TestParseOlderRedis(t *testing.T) {
	got, err := Parse("id=3 addr=127.0.0.1:52555 fd=8 name=old age=855 idle=12 flags=N db=1 sub=0 psub=0 multi=-1 qbuf=0 qbuf-free=32768 obl=0 oll=0 omem=0 events=r cmd=client\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("parsed %d clients, want 1", len(got))
	}
	c := got[0]
	want := Client{ID: 3, Addr: "127.0.0.1:52555", FD: 8, Name: "old", Age: 855, Idle: 12, Flags: "N", DB: 1, Multi: -1, QueryBufFree: 32768, Events: "r", Cmd: "client"}
	c.has = 0
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	for _, f := range []string{"laddr", "ssub", "argv-mem", "multi-mem", "tot-mem", "user", "redir", "resp"} {
		if got[0].Has(f) {
			t.Errorf("Has(%q) for a field the line lacks", f)
		}
	}
	for _, f := range []string{"id", "idle", "qbuf", "omem", "name"} {
		if !got[0].Has(f) {
			t.Errorf("Has(%q) false for a field the line has", f)
		}
	}
}

// CRLF line ends, blank lines, fields of later versions and a name holding
// "=" all parse.
func TestParseTolerates(t *testing.T) {
	text := "\r\n" +
		"id=7 addr=/tmp/redis.sock:0 laddr=/tmp/redis.sock:0 fd=9 name=a=b age=2 idle=1 flags=U db=0 lib-name=redis-py lib-ver=5.0.1 io-thread=0 tot-mem=2000 user=app\r\n" +
		"\n" +
		"id=8 name= idle=0 flags=N\n"
	got, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("parsed %d clients, want 2", len(got))
	}
	if c := got[0]; c.ID != 7 || c.Addr != "/tmp/redis.sock:0" || c.Name != "a=b" || c.Idle != 1 || c.Age != 2 || c.Flags != "U" || c.TotalMem != 2000 || c.User != "app" {
		t.Errorf("first client %+v", c)
	}
	if c := got[1]; c.ID != 8 || c.Name != "" || !c.Has("name") || c.Flags != "N" || c.Has("user") {
		t.Errorf("second client %+v", c)
	}
	if got, err := Parse(""); err != nil || len(got) != 0 {
		t.Errorf("empty text: %v, %v", got, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, text := range []string{
		"id=1 idle=x flags=N\n",
		"id=one\n",
		"id=1 flags=N\nid=2 tot-mem=1.5\n",
		"id=1 garbage flags=N\n",
	} {
		if got, err := Parse(text); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", text, got)
		} else if !strings.HasPrefix(err.Error(), "CLIENT LIST line ") {
			t.Errorf("Parse(%q): error %q does not say the line", text, err)
		}
	}
}
