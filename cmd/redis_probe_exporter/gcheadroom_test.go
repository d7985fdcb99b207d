package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// Once collections have run, the exporter's GOGC (go_gc_gogc_percent on
// /metrics) is above 100, as --runtime.gc-headroom keeps its small live
// heap from being collected every few probes; with the headroom off, or a
// GOGC set in the environment, it stays Go's. A headroom out of range
// stops the exporter.
func TestGCHeadroom(t *testing.T) {
	bin := redistest.BuildExporter(t)
	srv := redistest.StartRedis(t)
	for _, bad := range []string{"-1MiB", "2TiB"} {
		code, _, stderr := runExporter(t, bin, t.TempDir(), "--runtime.gc-headroom="+bad)
		if want := "--runtime.gc-headroom must be from 0 to 1TiB, not " + bad + "\n"; code != 2 || stderr != want {
			t.Errorf("--runtime.gc-headroom=%s: exit %d, stderr %q; want 2 and %q", bad, code, stderr, want)
		}
	}
	for _, tc := range []struct {
		name, gogc string
		args       []string
		raised     bool
	}{
		{"default", "", nil, true},
		{"off", "", []string{"--runtime.gc-headroom=0"}, false},
		{"GOGC set", "100", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.gogc != "" {
				t.Setenv("GOGC", tc.gogc) // the exporter inherits it
			}
			e := redistest.StartExporter(t, bin, tc.args...)
			q := url.Values{"target": {srv.Addr()}}
			deadline := time.Now().Add(30 * time.Second)
			for {
				// Probes until two collections have run since the start:
				// the headroom is set after each.
				for range 50 {
					if code, _ := probe(t, e, q); code != http.StatusOK {
						t.Fatalf("probe: status %d", code)
					}
				}
				x := scrapeMetrics(t, e)
				if x.one(t, "go_gc_duration_seconds") >= 2 {
					gogc := x.one(t, "go_gc_gogc_percent")
					if tc.raised && gogc <= 100 || !tc.raised && gogc != 100 {
						t.Fatalf("GOGC is %v after %v collections; raised wanted: %v", gogc, x.one(t, "go_gc_duration_seconds"), tc.raised)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatal("no two collections in 30s of probes")
				}
			}
		})
	}
}
