package history

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRingKeepsNewestProbes(t *testing.T) {
	h := New(3, 1<<20)
	for i, tg := range []string{"a:1", "b:2", "c:3", "d:4"} {
		h.Add(Probe{Target: tg, Success: i%2 == 0, Duration: time.Millisecond, Time: time.Unix(int64(i), 0), Log: "log of " + tg})
	}
	var got []string
	for _, p := range h.List() {
		got = append(got, p.Target)
	}
	if strings.Join(got, ",") != "d:4,c:3,b:2" {
		t.Errorf("List = %v, want newest first d:4,c:3,b:2", got)
	}
	if _, ok := h.Get(0); ok {
		t.Error("the oldest probe should have left the ring")
	}
	if p, ok := h.Get(3); !ok || p.Log != "log of d:4" {
		t.Errorf("Get(3) = %+v, %v", p, ok)
	}
	zero := New(0, 1<<20)
	zero.Add(Probe{Target: "a:1"})
	if n := len(zero.List()); n != 0 {
		t.Errorf("a zero limit keeps %d probes, want none", n)
	}
}

func TestRingBoundedByBytes(t *testing.T) {
	h := New(100, 10)
	for _, l := range []string{"aaaa", "bbbb", "cccc", strings.Repeat("d", 25)} {
		h.Add(Probe{Log: l})
		var total int
		for _, p := range h.List() {
			total += len(p.Log)
		}
		if total > 10 {
			t.Fatalf("after adding %q the logs hold %d bytes, limit 10", l, total)
		}
	}
	got := h.List()
	if len(got) != 1 || got[0].Log != "dddddddddd" || got[0].ID != 3 {
		t.Errorf("List = %+v, want only probe 3 with its log cut to 10 bytes", got)
	}
	h.Add(Probe{Log: "ee"})
	if got := h.List(); len(got) != 1 || got[0].Log != "ee" {
		t.Errorf("List = %+v, want the 10-byte log dropped for the new one", got)
	}
}

func TestLandingPageEscapes(t *testing.T) {
	h := New(5, 1<<20)
	h.Add(Probe{Target: "<script>alert(1)</script>", Module: "default", Success: false, Time: time.Unix(0, 0)})
	w := httptest.NewRecorder()
	h.LandingPage("version 1").ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	body := w.Body.String()
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("target not escaped:\n%s", body)
	}
	if !strings.Contains(body, `href="logs?id=0"`) || !strings.Contains(body, "failure") || !strings.Contains(body, "</html>") {
		t.Errorf("landing page lacks the probe row or closing tag:\n%s", body)
	}
}
