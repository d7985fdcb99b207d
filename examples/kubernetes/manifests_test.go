// Package kubernetes checks the example manifests in this folder: every
// object decodes strictly into the Go type of the Kubernetes or
// prometheus-operator API it names, the objects agree with one another
// (names, labels, ports, the Service's address in the Probe and the
// ScrapeConfig), and the ConfigMap's redis_probe.yml passes the exporter's
// own --config.check with the Deployment's flags.
//
// It is a module of its own so that k8s.io/api and prometheus-operator stay
// out of the exporter's module graph. Run it with:
//
//	cd examples/kubernetes && go test -count=1 ./...
package kubernetes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// namespace is where every example object lives; the Probe and the
// ScrapeConfig name the Service in it.
const namespace = "monitoring"

// kinds maps apiVersion and kind to the Go type a manifest decodes into.
// A manifest of any other kind fails the test: add it here.
var kinds = map[string]func() any{
	"apps/v1 Deployment":                          func() any { return &appsv1.Deployment{} },
	"policy/v1 PodDisruptionBudget":               func() any { return &policyv1.PodDisruptionBudget{} },
	"v1 Service":                                  func() any { return &corev1.Service{} },
	"v1 ConfigMap":                                func() any { return &corev1.ConfigMap{} },
	"v1 Secret":                                   func() any { return &corev1.Secret{} },
	"networking.k8s.io/v1 NetworkPolicy":          func() any { return &networkingv1.NetworkPolicy{} },
	"monitoring.coreos.com/v1 ServiceMonitor":     func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1 Probe":              func() any { return &monitoringv1.Probe{} },
	"monitoring.coreos.com/v1alpha1 ScrapeConfig": func() any { return &monitoringv1alpha1.ScrapeConfig{} },
}

// manifests is every object of every YAML file here, decoded.
type manifests struct {
	deployments     []*appsv1.Deployment
	pdbs            []*policyv1.PodDisruptionBudget
	services        []*corev1.Service
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	networkPolicies []*networkingv1.NetworkPolicy
	serviceMonitors []*monitoringv1.ServiceMonitor
	probes          []*monitoringv1.Probe
	scrapeConfigs   []*monitoringv1alpha1.ScrapeConfig
}

// documentSeparator splits a multi-document YAML file.
var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// load reads and strictly decodes every manifest, failing t on the first
// that does not decode.
func load(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob("*.yml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, more...)
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no manifests (*.yaml, *.yml) found")
	}
	m := &manifests{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range documentSeparator.Split(string(data), -1) {
			where := fmt.Sprintf("%s (document %d)", file, i+1)
			obj, err := decode([]byte(doc))
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			switch o := obj.(type) {
			case nil: // only comments
			case *appsv1.Deployment:
				m.deployments = append(m.deployments, o)
			case *policyv1.PodDisruptionBudget:
				m.pdbs = append(m.pdbs, o)
			case *corev1.Service:
				m.services = append(m.services, o)
			case *corev1.ConfigMap:
				m.configMaps = append(m.configMaps, o)
			case *corev1.Secret:
				m.secrets = append(m.secrets, o)
			case *networkingv1.NetworkPolicy:
				m.networkPolicies = append(m.networkPolicies, o)
			case *monitoringv1.ServiceMonitor:
				m.serviceMonitors = append(m.serviceMonitors, o)
			case *monitoringv1.Probe:
				m.probes = append(m.probes, o)
			case *monitoringv1alpha1.ScrapeConfig:
				m.scrapeConfigs = append(m.scrapeConfigs, o)
			default:
				t.Fatalf("%s: %T decodes but the test does not collect it", where, o)
			}
			if meta, ok := obj.(metav1.Object); ok {
				if meta.GetName() == "" {
					t.Errorf("%s: no metadata.name", where)
				}
				if meta.GetNamespace() != namespace {
					t.Errorf("%s: %s has namespace %q, want %q", where, meta.GetName(), meta.GetNamespace(), namespace)
				}
			}
		}
	}
	return m
}

// decode converts one YAML document to JSON (failing on duplicate keys) and
// decodes it into the type its apiVersion and kind name, rejecting any
// field that type does not have. A document of comments only gives nil.
func decode(doc []byte) (any, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, err
	}
	newObj, ok := kinds[tm.APIVersion+" "+tm.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown apiVersion %q kind %q", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	if err := decodeStrict(js, obj); err != nil {
		return nil, fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, err)
	}
	return obj, nil
}

func decodeStrict(js []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the object")
	}
	return nil
}

func TestDecodeStrict(t *testing.T) {
	// The strict decoding this test relies on does catch a misspelt field
	// and an unknown kind.
	for _, doc := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 2\n",
		"apiVersion: monitoring.coreos.com/v1\nkind: Probe\nspec:\n  prober:\n    uri: x:1\n",
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n",
		"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n  a: c\n",
	} {
		if _, err := decode([]byte(doc)); err == nil {
			t.Errorf("decode(%q) succeeded, want an error", doc)
		}
	}
	if obj, err := decode([]byte("# a comment only\n")); obj != nil || err != nil {
		t.Errorf("decode(comment) = %v, %v; want nil, nil", obj, err)
	}
}

// one returns the only element of objs, failing t when there is not
// exactly one.
func one[T any](t *testing.T, what string, objs []T) T {
	t.Helper()
	if len(objs) != 1 {
		t.Fatalf("%d %s objects, want 1", len(objs), what)
	}
	return objs[0]
}

// exporter returns the Deployment's exporter container.
func exporter(t *testing.T, d *appsv1.Deployment) *corev1.Container {
	t.Helper()
	c := one(t, "container", d.Spec.Template.Spec.Containers)
	return &c
}

// serviceHost is the address the Probe and the ScrapeConfig must name.
func serviceHost(t *testing.T, m *manifests) string {
	t.Helper()
	svc := one(t, "Service", m.services)
	p := one(t, "Service port", svc.Spec.Ports)
	return fmt.Sprintf("%s.%s.svc:%d", svc.Name, svc.Namespace, p.Port)
}

// flagValue returns the value of --name=value in args.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestDeployment(t *testing.T) {
	m := load(t)
	d := one(t, "Deployment", m.deployments)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if !selects(d.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("selector %v does not select the pod labels %v", d.Spec.Selector, d.Spec.Template.Labels)
	}
	c := exporter(t, d)
	if c.Image != "redis-probe-exporter:latest" {
		t.Errorf("image = %q", c.Image)
	}
	if cfg, _ := flagValue(c.Args, "config.file"); cfg != "/etc/redis-probe/redis_probe.yml" {
		t.Errorf("--config.file = %q in %v", cfg, c.Args)
	}
	port := one(t, "container port", c.Ports)
	if port.Name != "http" || port.ContainerPort != 9736 {
		t.Errorf("container port = %s:%d, want http:9736", port.Name, port.ContainerPort)
	}
	for _, p := range []struct {
		what  string
		probe *corev1.Probe
		path  string
	}{
		{"readinessProbe", c.ReadinessProbe, "/-/ready"},
		{"livenessProbe", c.LivenessProbe, "/-/healthy"},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: no httpGet", p.what)
			continue
		}
		if g := p.probe.HTTPGet; g.Path != p.path || g.Port.String() != "http" {
			t.Errorf("%s: GET %s on port %s, want %s on http", p.what, g.Path, g.Port.String(), p.path)
		}
	}

	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("container has no securityContext")
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("runAsNonRoot is not true")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != 65534 {
		t.Errorf("runAsUser = %v, want 65534", sc.RunAsUser)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities = %+v, want drop [ALL] and nothing added", sc.Capabilities)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccompProfile = %+v, want RuntimeDefault", sc.SeccompProfile)
	}

	// Resources: the request and the memory limit are set, the limit above
	// the request, and GOMEMLIMIT below the limit.
	req, lim := c.Resources.Requests, c.Resources.Limits
	if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
		t.Errorf("resources = %+v, want cpu and memory requests and a memory limit", c.Resources)
	}
	if lim.Memory().Cmp(*req.Memory()) <= 0 {
		t.Errorf("memory limit %v not above the request %v", lim.Memory(), req.Memory())
	}
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			n, err := mebibytes(e.Value)
			if err != nil || n<<20 >= lim.Memory().Value() {
				t.Errorf("GOMEMLIMIT = %q, want a MiB figure below the memory limit %v (%v)", e.Value, lim.Memory(), err)
			}
		}
	}

	// Termination: the grace period covers the preStop sleep and the drain.
	grace := pod.TerminationGracePeriodSeconds
	if grace == nil || *grace != 40 {
		t.Errorf("terminationGracePeriodSeconds = %v, want 40", grace)
	}
	drain := 30 * time.Second
	if v, ok := flagValue(c.Args, "web.drain-timeout"); ok {
		if drain, _ = time.ParseDuration(v); drain <= 0 {
			t.Errorf("--web.drain-timeout=%q", v)
		}
	}
	var preStop time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	if grace != nil && time.Duration(*grace)*time.Second <= preStop+drain {
		t.Errorf("terminationGracePeriodSeconds %d leaves no margin over preStop %v + drain %v", *grace, preStop, drain)
	}

	// The config volume: ConfigMap and Secret projected at /etc/redis-probe.
	mount := one(t, "volumeMount", c.VolumeMounts)
	if mount.MountPath != "/etc/redis-probe" || !mount.ReadOnly {
		t.Errorf("volumeMount = %+v, want /etc/redis-probe read-only", mount)
	}
	vol := one(t, "volume", pod.Volumes)
	if vol.Name != mount.Name || vol.Projected == nil {
		t.Fatalf("volume %q is not the projected volume mounted as %q", vol.Name, mount.Name)
	}
	cm, secret := one(t, "ConfigMap", m.configMaps), one(t, "Secret", m.secrets)
	var sawConfig, sawSecret bool
	for _, src := range vol.Projected.Sources {
		switch {
		case src.ConfigMap != nil:
			sawConfig = true
			if src.ConfigMap.Name != cm.Name {
				t.Errorf("projected ConfigMap %q, want %q", src.ConfigMap.Name, cm.Name)
			}
			for _, it := range src.ConfigMap.Items {
				if _, ok := cm.Data[it.Key]; !ok {
					t.Errorf("projected ConfigMap key %q is not in the ConfigMap", it.Key)
				}
				if it.Key == "redis_probe.yml" && it.Path != "redis_probe.yml" {
					t.Errorf("redis_probe.yml projected at %q", it.Path)
				}
			}
		case src.Secret != nil:
			sawSecret = true
			if src.Secret.Name != secret.Name {
				t.Errorf("projected Secret %q, want %q", src.Secret.Name, secret.Name)
			}
			for _, it := range src.Secret.Items {
				if _, ok := secretData(secret)[it.Key]; !ok {
					t.Errorf("projected Secret key %q is not in the Secret", it.Key)
				}
				if it.Mode == nil || *it.Mode&0o007 != 0 {
					t.Errorf("Secret key %q mode %v, want no access for others", it.Key, it.Mode)
				}
			}
		}
	}
	if !sawConfig || !sawSecret {
		t.Errorf("projected volume: ConfigMap %v, Secret %v; want both", sawConfig, sawSecret)
	}

	pdb := one(t, "PodDisruptionBudget", m.pdbs)
	if !selects(pdb.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("PodDisruptionBudget selector %v does not select the pods", pdb.Spec.Selector)
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 1 || pdb.Spec.MinAvailable.IntValue() >= int(*d.Spec.Replicas) {
		t.Errorf("PodDisruptionBudget minAvailable = %v, want 1..replicas-1", pdb.Spec.MinAvailable)
	}
}

// secretData is a Secret's keys and values, from data and stringData (which
// wins, as on the API server).
func secretData(s *corev1.Secret) map[string]string {
	out := make(map[string]string, len(s.Data)+len(s.StringData))
	for k, v := range s.Data {
		out[k] = string(v)
	}
	for k, v := range s.StringData {
		out[k] = v
	}
	return out
}

// mebibytes parses "230MiB".
func mebibytes(s string) (int64, error) {
	n, ok := strings.CutSuffix(s, "MiB")
	if !ok {
		return 0, fmt.Errorf("%q is not in MiB", s)
	}
	return strconv.ParseInt(n, 10, 64)
}

// selects reports whether a label selector of matchLabels only selects
// labels.
func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	if sel == nil || len(sel.MatchLabels) == 0 || len(sel.MatchExpressions) > 0 {
		return false
	}
	for k, v := range sel.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestServiceAndServiceMonitor(t *testing.T) {
	m := load(t)
	d := one(t, "Deployment", m.deployments)
	svc := one(t, "Service", m.services)
	port := one(t, "Service port", svc.Spec.Ports)
	if port.Port != 9736 || port.Name != "http" || port.TargetPort.String() != "http" {
		t.Errorf("Service port = %s %d -> %s, want http 9736 -> http", port.Name, port.Port, port.TargetPort.String())
	}
	if !selects(&metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, d.Spec.Template.Labels) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}

	sm := one(t, "ServiceMonitor", m.serviceMonitors)
	if !selects(&sm.Spec.Selector, svc.Labels) {
		t.Errorf("ServiceMonitor selector %v does not select the Service's labels %v", sm.Spec.Selector, svc.Labels)
	}
	ep := one(t, "ServiceMonitor endpoint", sm.Spec.Endpoints)
	if ep.Port != port.Name || ep.Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoint = port %q path %q, want %q /metrics", ep.Port, ep.Path, port.Name)
	}
	// The shipped alerts select the exporter's job by this name.
	if r := one(t, "ServiceMonitor relabeling", ep.RelabelConfigs); r.TargetLabel != "job" || r.Replacement == nil || *r.Replacement != "redis_probe_exporter" {
		t.Errorf("ServiceMonitor relabeling %+v, want job set to redis_probe_exporter as the shipped alerts expect", r)
	}

	np := one(t, "NetworkPolicy", m.networkPolicies)
	if !selects(&np.Spec.PodSelector, d.Spec.Template.Labels) {
		t.Errorf("NetworkPolicy podSelector %v does not select the pods", np.Spec.PodSelector)
	}
	rule := one(t, "NetworkPolicy ingress rule", np.Spec.Ingress)
	if p := one(t, "NetworkPolicy port", rule.Ports); p.Port == nil || p.Port.String() != "http" {
		t.Errorf("NetworkPolicy port = %v, want http", p.Port)
	}
}

func TestProbe(t *testing.T) {
	m := load(t)
	cfg := probeConfig(t, m)
	p := one(t, "Probe", m.probes)
	if want := serviceHost(t, m); p.Spec.ProberSpec.URL != want {
		t.Errorf("prober.url = %q, want %q", p.Spec.ProberSpec.URL, want)
	}
	if p.Spec.ProberSpec.Path != "/probe" {
		t.Errorf("prober.path = %q, want /probe", p.Spec.ProberSpec.Path)
	}
	if p.Spec.Module != "default" {
		t.Errorf("module = %q, want default", p.Spec.Module)
	}
	if _, ok := cfg.Modules[p.Spec.Module]; !ok {
		t.Errorf("module %q is not a module of redis_probe.yml", p.Spec.Module)
	}
	var auth []string
	for _, param := range p.Spec.Params {
		if param.Name == "auth" {
			auth = param.Values
		}
	}
	if len(auth) != 1 {
		t.Fatalf("params auth = %v, want one value", auth)
	}
	if _, ok := cfg.Auths[auth[0]]; !ok {
		t.Errorf("auth %q is not an auth of redis_probe.yml", auth[0])
	}
	if p.Spec.Targets.StaticConfig == nil || len(p.Spec.Targets.StaticConfig.Targets) == 0 {
		t.Fatal("targets.staticConfig.static is empty")
	}
	for _, target := range p.Spec.Targets.StaticConfig.Targets {
		if strings.Contains(target, "@") {
			t.Errorf("target %q carries credentials", target)
		}
	}
}

func TestScrapeConfig(t *testing.T) {
	m := load(t)
	cfg := probeConfig(t, m)
	host := serviceHost(t, m)
	sc := one(t, "ScrapeConfig", m.scrapeConfigs)
	if sc.Spec.MetricsPath == nil || *sc.Spec.MetricsPath != "/probe" {
		t.Errorf("metricsPath = %v, want /probe", sc.Spec.MetricsPath)
	}
	sd := one(t, "httpSDConfig", sc.Spec.HTTPSDConfigs)
	u, err := url.Parse(string(sd.URL))
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "http" || u.Host != host || u.Path != "/discover/cluster" {
		t.Errorf("http_sd URL %s, want http://%s/discover/cluster", u, host)
	}
	q := u.Query()
	if q.Get("target") == "" {
		t.Errorf("http_sd URL %s has no target", u)
	}
	if _, ok := cfg.Modules[q.Get("module")]; !ok {
		t.Errorf("http_sd URL module %q is not a module of redis_probe.yml", q.Get("module"))
	}

	// The relabelings make /probe scrapes of the exporter out of the
	// discovered nodes: module and auth become parameters, the node's
	// address the target, and the exporter the address.
	targets := map[string]monitoringv1.RelabelConfig{}
	for _, r := range sc.Spec.RelabelConfigs {
		targets[r.TargetLabel] = r
	}
	for label, source := range map[string]string{
		"__param_module": "module",
		"__param_auth":   "auth",
		"__param_target": "__address__",
		"instance":       "__param_target",
	} {
		r, ok := targets[label]
		if !ok || len(r.SourceLabels) != 1 || string(r.SourceLabels[0]) != source {
			t.Errorf("no relabeling of %s into %s", source, label)
		}
	}
	if r, ok := targets["__address__"]; !ok || r.Replacement == nil || *r.Replacement != host {
		t.Errorf("no relabeling of __address__ to %s", host)
	}
}

// probeConfigNames is the subset of redis_probe.yml that the other objects
// refer to.
type probeConfigNames struct {
	Auths map[string]struct {
		PasswordFile string `json:"password_file"`
	} `json:"auths"`
	Modules map[string]struct {
		Auth string `json:"auth"`
	} `json:"modules"`
}

// probeConfig parses the ConfigMap's redis_probe.yml (leniently: the
// exporter's strict check is TestConfigCheck).
func probeConfig(t *testing.T, m *manifests) *probeConfigNames {
	t.Helper()
	cm := one(t, "ConfigMap", m.configMaps)
	data, ok := cm.Data["redis_probe.yml"]
	if !ok {
		t.Fatal("the ConfigMap has no redis_probe.yml")
	}
	var cfg probeConfigNames
	if err := yaml.Unmarshal([]byte(data), &cfg); err != nil {
		t.Fatalf("redis_probe.yml: %v", err)
	}
	if len(cfg.Modules) == 0 {
		t.Fatal("redis_probe.yml has no modules")
	}
	if _, ok := cfg.Modules["default"]; !ok {
		t.Error("redis_probe.yml has no default module")
	}
	return &cfg
}

func TestConfigMap(t *testing.T) {
	m := load(t)
	cfg := probeConfig(t, m)
	// Where the Deployment projects the Secret's keys, relative to the
	// config file's directory (the mount point).
	projected := map[string]bool{}
	for _, vol := range one(t, "Deployment", m.deployments).Spec.Template.Spec.Volumes {
		if vol.Projected == nil {
			continue
		}
		for _, src := range vol.Projected.Sources {
			if src.Secret != nil {
				for _, it := range src.Secret.Items {
					projected[it.Path] = true
				}
			}
		}
	}
	var withFile int
	for name, a := range cfg.Auths {
		if a.PasswordFile == "" {
			continue
		}
		withFile++
		// A relative password_file resolves against the config's directory.
		rel := strings.TrimPrefix(a.PasswordFile, "/etc/redis-probe/")
		if !projected[rel] {
			t.Errorf("auth %s: password_file %q is not where the Deployment projects a Secret key (%v)", name, a.PasswordFile, projected)
		}
	}
	if withFile == 0 {
		t.Error("no auth of redis_probe.yml uses password_file")
	}
	for name, mod := range cfg.Modules {
		if _, ok := cfg.Auths[mod.Auth]; mod.Auth != "" && !ok {
			t.Errorf("module %s: auth %q is not an auth", name, mod.Auth)
		}
	}
}

// TestConfigCheck builds the exporter from the repository and runs
// --config.check with the Deployment's flags on the ConfigMap's
// redis_probe.yml, laid out as the pod sees it (the Secret's keys under
// secrets/), so the exporter's strict loader and flag parser judge them.
func TestConfigCheck(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	goTool, err := exec.LookPath("go") // the tool running this test is on PATH
	if err != nil {
		t.Fatalf("the go tool builds the exporter: %v", err)
	}
	m := load(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "redis_probe_exporter")
	build := exec.Command(goTool, "build", "-o", bin, "./cmd/redis_probe_exporter")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the exporter: %v\n%s", err, out)
	}

	// Lay the files out as the Deployment's projected volume does.
	d := one(t, "Deployment", m.deployments)
	cm, secret := one(t, "ConfigMap", m.configMaps), one(t, "Secret", m.secrets)
	etc := filepath.Join(dir, "etc")
	write := func(path, value string) {
		t.Helper()
		file := filepath.Join(etc, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	project := func(data map[string]string, items []corev1.KeyToPath) {
		if len(items) == 0 {
			for key, value := range data {
				write(key, value)
			}
		}
		for _, it := range items {
			write(it.Path, data[it.Key])
		}
	}
	vol := one(t, "volume", d.Spec.Template.Spec.Volumes)
	if vol.Projected == nil {
		t.Fatalf("volume %q is not projected", vol.Name)
	}
	for _, src := range vol.Projected.Sources {
		switch {
		case src.ConfigMap != nil && src.ConfigMap.Name == cm.Name:
			project(cm.Data, src.ConfigMap.Items)
		case src.Secret != nil && src.Secret.Name == secret.Name:
			project(secretData(secret), src.Secret.Items)
		default:
			t.Fatalf("projected source %+v is neither the ConfigMap nor the Secret", src)
		}
	}

	var args []string
	for _, a := range exporter(t, d).Args {
		if v, ok := strings.CutPrefix(a, "--config.file=/etc/redis-probe/"); ok {
			a = "--config.file=" + filepath.Join(etc, v)
		}
		args = append(args, a)
	}
	check := exec.Command(bin, append(args, "--config.check")...)
	out, err := check.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(check.Args[1:], " "), err, out)
	}
	if !strings.Contains(string(out), "config is valid") {
		t.Errorf("--config.check said: %s", out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}
