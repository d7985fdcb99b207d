// Package examples holds example configurations for Prometheus and for the
// exporter; its tests check that they stay valid.
package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/redis-probe/redis_probe_exporter/internal/target"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// prometheusConfigs lists every examples/prometheus-*.yml;
// TestPrometheusConfigs fails when a file and this table disagree.
var prometheusConfigs = []struct {
	file string
	// full also runs promtool without --syntax-only, which reads the
	// file_sd files through Prometheus's own file_sd parser.
	full bool
}{
	{file: "prometheus-static.yml"},
	{file: "prometheus-file-sd.yml", full: true},
	{file: "prometheus-consul-sd.yml"},
	{file: "prometheus-http-sd.yml"},
	{file: "prometheus-sharded.yml"},
}

func TestPrometheusConfigs(t *testing.T) {
	promtool := lookPromtool(t)

	files, err := filepath.Glob("prometheus-*.yml")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, c := range prometheusConfigs {
		listed = append(listed, c.file)
	}
	slices.Sort(listed)
	if !slices.Equal(files, listed) {
		t.Fatalf("examples/prometheus-*.yml are %v but prometheusConfigs lists %v: update the table", files, listed)
	}

	for _, c := range prometheusConfigs {
		t.Run(c.file, func(t *testing.T) {
			out, err := runPromtool(t, promtool, "check", "config", "--syntax-only", c.file)
			switch {
			case err == nil:
			case consulSDMissing.Match(out):
				// Debian builds Prometheus without Consul SD, so its promtool
				// rejects consul_sd_configs. Check the rest with promtool,
				// and the Consul section against upstream's fields.
				t.Logf("this promtool has no Consul SD (Debian disables it): checking consul_sd_configs here and the rest with promtool\n%s", out)
				checkWithoutConsulSD(t, promtool, c.file)
			default:
				t.Fatalf("promtool check config --syntax-only %s: %v\n%s", c.file, err, out)
			}
			if !c.full {
				return
			}
			out, err = runPromtool(t, promtool, "check", "config", c.file)
			if err != nil {
				t.Fatalf("promtool check config %s: %v\n%s", c.file, err, out)
			}
			// A missing file_sd file is only a warning to promtool.
			if bytes.Contains(out, []byte("WARNING")) {
				t.Fatalf("promtool check config %s warned:\n%s", c.file, out)
			}
		})
	}
}

// consulSDMissing is how a promtool built without Consul SD (Debian's)
// rejects consul_sd_configs.
var consulSDMissing = regexp.MustCompile(`field consul_sd_configs not found in type config\.ScrapeConfig`)

// checkWithoutConsulSD checks that each job's consul_sd_configs names a
// server and services, then removes them and runs promtool on the rest (global
// settings, params, relabel_configs, the other jobs).
func checkWithoutConsulSD(t *testing.T, promtool, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	removed := 0
	for _, job := range mappingValue(doc.Content[0], "scrape_configs").Content {
		for i := 0; i+1 < len(job.Content); i += 2 {
			if job.Content[i].Value != "consul_sd_configs" {
				continue
			}
			checkConsulSDConfigs(t, file, job.Content[i+1])
			job.Content = slices.Delete(job.Content, i, i+2)
			removed++
			break
		}
	}
	if removed == 0 {
		t.Fatalf("%s: promtool rejected consul_sd_configs but no job has any", file)
	}
	rest, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(tmp, rest, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runPromtool(t, promtool, "check", "config", "--syntax-only", tmp); err != nil {
		t.Fatalf("promtool check config --syntax-only %s (without consul_sd_configs): %v\n%s", file, err, out)
	}
}

func checkConsulSDConfigs(t *testing.T, file string, n *yaml.Node) {
	t.Helper()
	var sds []struct {
		Server   string   `yaml:"server"`
		Services []string `yaml:"services"`
	}
	if err := n.Decode(&sds); err != nil || len(sds) == 0 {
		t.Fatalf("%s:%d: consul_sd_configs: %v", file, n.Line, err)
	}
	for _, sd := range sds {
		if sd.Server == "" || len(sd.Services) == 0 {
			t.Errorf("%s:%d: consul_sd_configs entry %+v: want a server and services", file, n.Line, sd)
		}
	}
}

// mappingValue is the value of key in mapping node m, or an empty node.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return &yaml.Node{}
}

func lookPromtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is needed to check the Prometheus examples: %v; `make test` installs it (Debian package prometheus)", err)
	}
	return path
}

func runPromtool(t *testing.T, promtool string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, promtool, args...).CombinedOutput()
}

// targetGroup is one entry of a file_sd file.
type targetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func TestTargetsJSON(t *testing.T) {
	data, err := os.ReadFile("targets.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var groups []targetGroup
	if err := dec.Decode(&groups); err != nil {
		t.Fatalf("targets.json is not a file_sd list of {targets: [...], labels: {...}}: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("targets.json: data after the list of target groups")
	}
	if len(groups) == 0 {
		t.Fatal("targets.json has no target groups")
	}

	// The module and auth labels become module= and auth=: they must name
	// a module and an auth of the example exporter config.
	cfgData, err := os.ReadFile("redis_probe.yml")
	if err != nil {
		t.Fatal(err)
	}
	// Strict decoding catches a misspelt field; validation is left out
	// because the example's password and certificate files do not exist.
	var cfg modules.Config
	ydec := yaml.NewDecoder(bytes.NewReader(cfgData))
	ydec.KnownFields(true)
	if err := ydec.Decode(&cfg); err != nil {
		t.Fatalf("redis_probe.yml: %v", err)
	}

	for i, g := range groups {
		t.Run(fmt.Sprintf("group%d", i), func(t *testing.T) {
			if len(g.Targets) == 0 {
				t.Errorf("group %d has no targets", i)
			}
			for _, tg := range g.Targets {
				if _, err := target.Parse(tg); err != nil {
					t.Errorf("group %d: the exporter would refuse target %q: %v", i, tg, err)
				}
			}
			for name := range g.Labels {
				if !labelName.MatchString(name) {
					t.Errorf("group %d: %q is not a valid Prometheus label name", i, name)
				}
			}
			module := g.Labels["module"]
			if module == "" {
				t.Errorf("group %d sets no module label", i)
			} else if _, ok := cfg.Modules[module]; !ok {
				t.Errorf("group %d: module %q is not a module of redis_probe.yml", i, module)
			}
			if auth, ok := g.Labels["auth"]; ok {
				if _, known := cfg.Auths[auth]; !known {
					t.Errorf("group %d: auth %q is not an auth of redis_probe.yml", i, auth)
				}
			}
		})
	}
}
