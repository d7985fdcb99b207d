package history

import (
	"html/template"
	"net/http"
	"strconv"
)

var landing = template.Must(template.New("landing").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Redis Probe Exporter</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}.fail{color:#b00}</style>
</head>
<body>
<h1>Redis Probe Exporter</h1>
<p>{{.Version}}</p>
<ul>
<li><a href="probe?target=localhost:6379&amp;module=default&amp;debug=true">Probe localhost:6379 with debug output</a></li>
<li><a href="metrics">Exporter metrics</a></li>
<li><a href="config">Configuration</a> (secrets masked)</li>
</ul>
<h2>Recent probes</h2>
<table>
<tr><th>Time</th><th>Target</th><th>Module</th><th>Auth</th><th>Result</th><th>Duration</th><th>Log</th></tr>
{{range .Probes}}<tr><td>{{.Time.UTC.Format "2006-01-02T15:04:05.000Z"}}</td><td>{{.Target}}</td><td>{{.Module}}</td><td>{{.Auth}}</td>
<td{{if not .Success}} class="fail"{{end}}>{{if .Success}}success{{else}}failure{{end}}</td><td>{{.Duration}}</td><td><a href="logs?id={{.ID}}">log</a></td></tr>
{{else}}<tr><td colspan="7">No probes yet.</td></tr>
{{end}}</table>
</body>
</html>
`))

// LandingPage serves / with links and the recent probes.
func (h *History) LandingPage(version string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = landing.Execute(w, struct {
			Version string
			Probes  []Probe
		}{version, h.List()})
	})
}

// ServeLogs serves /logs?id=N: one kept probe's own log, as plain text.
func (h *History) ServeLogs(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	if err != nil {
		http.Error(w, "invalid or missing id parameter", http.StatusBadRequest)
		return
	}
	p, ok := h.Get(id)
	if !ok {
		http.Error(w, "probe not found: it may have left the history", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(p.Log))
}
