package modules

import "path/filepath"

// resolvePaths makes the relative file names of the config (password_file,
// the TLS files, script_file) relative to dir, the config file's directory,
// as Prometheus and blackbox_exporter do, rather than to the working
// directory the exporter happens to start in.
func (c *Config) resolvePaths(dir string) {
	resolve := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for _, a := range c.Auths {
		if a == nil {
			continue
		}
		resolve(&a.PasswordFile)
		if a.TLS != nil {
			resolve(&a.TLS.CAFile)
			resolve(&a.TLS.CertFile)
			resolve(&a.TLS.KeyFile)
		}
	}
	for _, m := range c.Modules {
		if m == nil {
			continue
		}
		for i := range m.Scripts {
			resolve(&m.Scripts[i].ScriptFile)
		}
	}
}
