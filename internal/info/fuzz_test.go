package info

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// FuzzParse guards Parse, Get and Pairs against whatever a Redis target, or
// something posing as one, answers to INFO or CLUSTER INFO. For any text they
// must not panic and must be deterministic; Parse must return at most one
// field per line, each field's "key:value" must be a line of the text (so no
// key or value outgrows it) under a section that is one of its "#" headers,
// lower-cased; and writing the fields back as INFO text must parse to the same
// fields. Get must find a key's first field, and every pair Pairs yields must
// be a comma-separated "k=v" piece of the value.
func FuzzParse(f *testing.F) {
	for _, name := range []string{
		"testdata/info_all_master.txt",
		"testdata/info_all_replica.txt",
		"testdata/info_all_valkey_8.0.txt",
		"../clusternodes/testdata/cluster_info_pfail.txt", // CLUSTER INFO is parsed by Parse too
	} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
		f.Add(strings.ReplaceAll(string(data), "\n", "\r\n"))
		// The fuzzer takes minutes to minimize what it finds in a whole
		// recording; single sections it mutates and minimizes quickly.
		for section := range strings.SplitSeq(string(data), "\n\n") {
			f.Add(section)
		}
	}
	for _, s := range []string{
		"", "\r\n", "\n\n\r\r\n", "#", "# \r\n", ":", "k:", ":v", "a:b:c\r\r\n",
		"# Server\r\nno_separator\r\nredis_version:7.0.15\r\n",
		"# Keyspace\r\ndb0:keys=18446744073709551616,expires=-9223372036854775809,avg_ttl=1e999\r\n",
		"db0:=,,=x,k=v=w,noequals\r\n",
		"# \xff\xfe\r\nk\xc3\x28:\xa0\xa1\r\n",
		"# SERVER\x00\r\nk\x00ey:va\x00lue\r\n",
		"# \u023a\r\nk:v", // a capital whose lower case is longer in UTF-8
		strings.Repeat("k", 1<<12) + ":" + strings.Repeat("9", 1<<12) + "\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fields := Parse(text)
		if !slices.Equal(fields, Parse(text)) {
			t.Fatal("Parse is not deterministic")
		}
		if lines := strings.Count(text, "\n") + 1; len(fields) > lines {
			t.Fatalf("%d fields from %d lines", len(fields), lines)
		}
		headers := map[string]bool{"": true} // fields before any header have no section
		for line := range strings.Lines(text) {
			if h, ok := strings.CutPrefix(line, "#"); ok {
				headers[strings.ToLower(strings.TrimSpace(h))] = true
			}
		}
		first := map[string]string{} // each key's first value, which Get returns
		for i, fd := range fields {
			line := fd.Key + ":" + fd.Value
			if !strings.Contains(text, line) || strings.ContainsRune(fd.Key, ':') ||
				strings.ContainsRune(line, '\n') || strings.HasPrefix(line, "#") || strings.HasSuffix(line, "\r") {
				t.Fatalf("field %d %+v is not a line of the text", i, fd)
			}
			if !headers[fd.Section] {
				t.Fatalf("field %d %+v: section is not a header of the text", i, fd)
			}
			if _, seen := first[fd.Key]; !seen {
				first[fd.Key] = fd.Value
			}
			if v, ok := Get(fields, fd.Key); !ok || v != first[fd.Key] {
				t.Fatalf("Get(%q) = %q, %v; want the first value, %q", fd.Key, v, ok, first[fd.Key])
			}
			checkPairs(t, fd.Value)
		}
		if again := Parse(format(fields)); !slices.Equal(again, fields) {
			t.Fatalf("fields written back parse differently:\n got %+v\nwant %+v", again, fields)
		}
	})
}

// checkPairs checks that each pair Pairs yields is a "k=v" piece of value.
func checkPairs(t *testing.T, value string) {
	t.Helper()
	n := 0
	Pairs(value, func(k, v string) {
		n++
		if pair := k + "=" + v; strings.ContainsRune(k, '=') || strings.ContainsRune(pair, ',') || !strings.Contains(value, pair) {
			t.Fatalf("Pairs(%q) yielded %q, %q", value, k, v)
		}
	})
	if pieces := strings.Count(value, ",") + 1; n > pieces {
		t.Fatalf("Pairs(%q) yielded %d pairs from %d pieces", value, n, pieces)
	}
}

// format writes fields back as INFO text, with a header where the section
// changes.
func format(fields []Field) string {
	var b strings.Builder
	section := ""
	for _, f := range fields {
		if f.Section != section {
			section = f.Section
			b.WriteString("# " + section + "\r\n")
		}
		b.WriteString(f.Key + ":" + f.Value + "\r\n")
	}
	return b.String()
}
