package modules

// Expect is what a healthy target looks like, as blackbox_exporter's
// fail_if_* options say it for HTTP: each assertion set is checked on
// every probe, and one that fails sets probe_success to 0 (redis_up stays
// 1: Redis answered, it is not what it should be).
type Expect struct {
	Role         string `yaml:"role,omitempty"`          // master | replica
	Loading      *bool  `yaml:"loading,omitempty"`       // false: not loading its dataset
	ClusterState string `yaml:"cluster_state,omitempty"` // ok | fail (CLUSTER INFO)
	MasterLink   string `yaml:"master_link,omitempty"`   // up | down (replicas)
	MinReplicas  *int   `yaml:"min_replicas,omitempty"`  // replicas online, at least
}

// validate checks the values each assertion takes.
func (x *Expect) validate(p string, add func(path, format string, args ...any)) {
	oneOf(add, p+".role", x.Role, "master", "replica")
	oneOf(add, p+".cluster_state", x.ClusterState, "ok", "fail")
	oneOf(add, p+".master_link", x.MasterLink, "up", "down")
	if x.MinReplicas != nil && *x.MinReplicas < 0 {
		add(p+".min_replicas", "must be 0 or more")
	}
}
