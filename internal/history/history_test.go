package history

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRingKeepsNewestProbes(t *testing.T) {
	h := New(3)
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
	if New(0).Add(Probe{}); len(New(0).List()) != 0 {
		t.Error("a zero limit keeps nothing")
	}
}

func TestLandingPageEscapes(t *testing.T) {
	h := New(5)
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
