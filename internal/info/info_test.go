package info

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func load(t *testing.T, name string) []Field {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	// Redis sends CRLF; the recording was saved with LF. Parse both.
	return Parse(strings.ReplaceAll(string(data), "\n", "\r\n"))
}

func TestParseRecordedMaster(t *testing.T) {
	fields := load(t, "info_all_master.txt")
	for _, tc := range []struct{ section, key, want string }{
		{"server", "redis_version", "7.0.15"},
		{"server", "redis_mode", "standalone"},
		{"memory", "maxmemory_policy", "noeviction"},
		{"replication", "role", "master"},
		{"replication", "slave0", "ip=127.0.0.1,port=17002,state=online,offset=201,lag=1"},
		{"commandstats", "cmdstat_set", "calls=3,usec=16,usec_per_call=5.33,rejected_calls=0,failed_calls=0"},
		{"keyspace", "db0", "keys=2,expires=1,avg_ttl=97149"},
		{"keyspace", "db3", "keys=1,expires=0,avg_ttl=0"},
	} {
		var got *Field
		for i := range fields {
			if fields[i].Key == tc.key {
				got = &fields[i]
			}
		}
		if got == nil || got.Section != tc.section || got.Value != tc.want {
			t.Errorf("%s: got %+v, want section %q value %q", tc.key, got, tc.section, tc.want)
		}
	}
	if v, ok := Get(fields, "config_file"); !ok || v != "" {
		t.Errorf("empty value: got %q, %v", v, ok)
	}
	if _, ok := Get(fields, "no_such_field"); ok {
		t.Error("Get found a field INFO does not have")
	}
}

func TestPairs(t *testing.T) {
	got := map[string]string{}
	Pairs("ip=127.0.0.1,port=17002,state=online,offset=201,lag=1", func(k, v string) { got[k] = v })
	want := map[string]string{"ip": "127.0.0.1", "port": "17002", "state": "online", "offset": "201", "lag": "1"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}

// AppendFields into a slice that held another INFO's fields gives exactly
// Parse's fields after what dst held.
func TestAppendFieldsReusesMemory(t *testing.T) {
	data, err := os.ReadFile("testdata/info_all_replica.txt")
	if err != nil {
		t.Fatal(err)
	}
	master := load(t, "info_all_master.txt")
	want := Parse(string(data))
	got := AppendFields(master[:0], string(data))
	if !slices.Equal(got, want) {
		t.Fatalf("AppendFields into a used slice: %d fields, want %d", len(got), len(want))
	}
	prefix := []Field{{"x", "y", "z"}}
	if got := AppendFields(prefix, "# A\r\nk:v\r\n"); !slices.Equal(got, []Field{{"x", "y", "z"}, {"a", "k", "v"}}) {
		t.Fatalf("AppendFields after a field: %v", got)
	}
}
