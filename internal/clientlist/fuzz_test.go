package clientlist

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse guards Parse against whatever a Redis target, or something posing
// as one, answers to CLIENT LIST. For any text it must not panic and must be
// deterministic; an error must name the line and come without clients;
// otherwise there is at most one client per line, every string field is a
// whitespace-free piece of the text, a field the line lacked is zero, and
// writing the clients back as CLIENT LIST text parses to the same clients.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/client_list.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add(strings.ReplaceAll(string(data), "\n", "\r\n"))
	// The fuzzer takes minutes to minimize what it finds in a whole
	// recording; single lines it mutates and minimizes quickly.
	for line := range strings.Lines(string(data)) {
		f.Add(line)
	}
	for _, s := range []string{
		"", "\r\n", "\n \t\n\r\r\n", "=", "id=", "name=a=b  flags=N\r\n",
		"id=1 garbage flags=N\n", // a field without "="
		"id=18446744073709551615 fd=-9223372036854775808 tot-mem=9223372036854775807\n",
		"id=18446744073709551616 qbuf=99999999999999999999\n",
		"id=+1 age=-0 idle=0x10 db=1_0\n",
		"id=1 id=2 name=a name=\n",
		"id=1 name=\xff\xfe user=\xc3\x28 addr=a\x00b\n",
		"id=1 user=a\u00a0b cmd=c\u0085d\n", // Unicode spaces inside a value
		"id=1 name=" + strings.Repeat("n", 1<<12) + "\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		clients, err := Parse(text)
		again, err2 := Parse(text)
		if !reflect.DeepEqual(clients, again) || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatal("Parse is not deterministic")
		}
		if err != nil {
			if clients != nil || !strings.HasPrefix(err.Error(), "CLIENT LIST line ") {
				t.Fatalf("error %q with %d clients", err, len(clients))
			}
			return
		}
		if lines := strings.Count(text, "\n") + 1; len(clients) > lines {
			t.Fatalf("%d clients from %d lines", len(clients), lines)
		}
		for i := range clients {
			v := reflect.ValueOf(clients[i])
			for j, name := range fields { // Client's first fields, in order
				x := v.Field(j)
				if !clients[i].Has(name) && !x.IsZero() {
					t.Fatalf("client %d: %s = %v, but the line lacked it", i, name, x)
				}
				if s, ok := x.Interface().(string); ok && (!strings.Contains(text, s) || strings.Contains(s, " ")) {
					t.Fatalf("client %d: %s %q is not a field of the text", i, name, s)
				}
			}
		}
		if again, err := Parse(format(clients)); err != nil || !reflect.DeepEqual(again, clients) {
			t.Fatalf("clients written back parse differently (%v):\n got %+v\nwant %+v", err, again, clients)
		}
	})
}

// format writes clients back as CLIENT LIST text: the fields each line had,
// and one this package does not know, so that no line is blank.
func format(clients []Client) string {
	var b strings.Builder
	for i := range clients {
		v := reflect.ValueOf(clients[i])
		for j, name := range fields {
			if clients[i].Has(name) {
				fmt.Fprintf(&b, "%s=%v ", name, v.Field(j))
			}
		}
		b.WriteString("rbs=0\n")
	}
	return b.String()
}
