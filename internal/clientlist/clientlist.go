// Package clientlist parses the text that Redis's CLIENT LIST command
// returns: one line per connection, made of space-separated key=value
// fields.
package clientlist

import (
	"fmt"
	"strconv"
	"strings"
)

// Client is one line of CLIENT LIST. A field the line lacks (an older Redis)
// is left zero; Has tells it apart from a real zero. Fields this package does
// not know are skipped.
type Client struct {
	ID           uint64 // id: unique, increasing connection id
	Addr         string // addr: the client's address, "ip:port" or a unix socket path
	LAddr        string // laddr: the server address the client connected to
	FD           int64  // fd: file descriptor, -1 for internal clients
	Name         string // name: set by CLIENT SETNAME, "" when unset
	Age          int64  // age: seconds since the connection opened
	Idle         int64  // idle: seconds since the client last sent a command
	Flags        string // flags: as Redis prints them ("N" none, "S" replica, "M" master, "P" pub/sub, "x" MULTI, "b" blocked, …)
	DB           int64  // db: selected database
	Sub          int64  // sub: channel subscriptions
	PSub         int64  // psub: pattern subscriptions
	SSub         int64  // ssub: shard channel subscriptions (Redis 7+)
	Multi        int64  // multi: commands queued in MULTI, -1 outside a transaction
	QueryBuf     int64  // qbuf: query buffer length, in bytes
	QueryBufFree int64  // qbuf-free: free space of the query buffer, in bytes
	ArgvMem      int64  // argv-mem: memory of the next command's arguments, in bytes
	MultiMem     int64  // multi-mem: memory of the commands queued in MULTI, in bytes
	OutputBuf    int64  // obl: length of the fixed output buffer, in bytes
	OutputList   int64  // oll: entries in the output list
	OutputMem    int64  // omem: memory of the output list, in bytes
	TotalMem     int64  // tot-mem: all the memory the client uses, buffers included, in bytes
	Events       string // events: file descriptor events ("r", "w", "rw")
	Cmd          string // cmd: last command, such as "client|list"; "NULL" before the first
	User         string // user: ACL user (Redis 6+)
	Redir        int64  // redir: client id of the tracking redirection, -1 when none
	Resp         int64  // resp: protocol version, 2 or 3
	has          uint32 // bit i set when the line had fields[i]
}

// fields are the keys Parse knows, in Client order; a Client's has bits
// index them.
var fields = []string{
	"id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db",
	"sub", "psub", "ssub", "multi", "qbuf", "qbuf-free", "argv-mem",
	"multi-mem", "obl", "oll", "omem", "tot-mem", "events", "cmd", "user",
	"redir", "resp",
}

var fieldIndex = func() map[string]int {
	m := make(map[string]int, len(fields))
	for i, f := range fields {
		m[f] = i
	}
	return m
}()

// Has reports whether the client's line had the field, named as CLIENT LIST
// names it ("tot-mem", "user", …).
func (c *Client) Has(field string) bool {
	i, ok := fieldIndex[field]
	return ok && c.has&(1<<i) != 0
}

// Parse splits CLIENT LIST text into its clients, in order. It skips blank
// lines and fields it does not know, and fails on a field that is not
// key=value or a number field that does not parse.
func Parse(text string) ([]Client, error) {
	clients := make([]Client, 0, strings.Count(text, "\n")+1)
	n := 0
	for line := range strings.Lines(text) {
		n++
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			continue
		}
		c, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("CLIENT LIST line %d: %w", n, err)
		}
		clients = append(clients, c)
	}
	return clients, nil
}

func parseLine(line string) (Client, error) {
	var c Client
	// Redis separates fields with ASCII spaces; a user or client name may
	// hold other Unicode spaces.
	for _, kv := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' }) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Client{}, fmt.Errorf("field %q is not key=value", kv)
		}
		i, known := fieldIndex[k]
		if !known {
			continue
		}
		c.has |= 1 << i
		var num *int64
		switch k {
		case "id":
			id, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return Client{}, fmt.Errorf("id: %w", err)
			}
			c.ID = id
		case "addr":
			c.Addr = v
		case "laddr":
			c.LAddr = v
		case "name":
			c.Name = v
		case "flags":
			c.Flags = v
		case "events":
			c.Events = v
		case "cmd":
			c.Cmd = v
		case "user":
			c.User = v
		case "fd":
			num = &c.FD
		case "age":
			num = &c.Age
		case "idle":
			num = &c.Idle
		case "db":
			num = &c.DB
		case "sub":
			num = &c.Sub
		case "psub":
			num = &c.PSub
		case "ssub":
			num = &c.SSub
		case "multi":
			num = &c.Multi
		case "qbuf":
			num = &c.QueryBuf
		case "qbuf-free":
			num = &c.QueryBufFree
		case "argv-mem":
			num = &c.ArgvMem
		case "multi-mem":
			num = &c.MultiMem
		case "obl":
			num = &c.OutputBuf
		case "oll":
			num = &c.OutputList
		case "omem":
			num = &c.OutputMem
		case "tot-mem":
			num = &c.TotalMem
		case "redir":
			num = &c.Redir
		case "resp":
			num = &c.Resp
		}
		if num != nil {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return Client{}, fmt.Errorf("%s: %w", k, err)
			}
			*num = x
		}
	}
	return c, nil
}
