package modules

import (
	"os"
	"path/filepath"
	"testing"
)

// Relative file names resolve against the config file's directory, not
// the working directory.
func TestRelativePathsResolveAgainstConfigDir(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"secrets/pw":    "from-dir\n",
		"scripts/q.lua": "return 1",
		"redis_probe.yml": "auths:\n  a:\n    password_file: secrets/pw\n    allowed_targets: [localhost]\n" +
			"modules:\n  m:\n    scripts:\n      - {metric: q, script_file: scripts/q.lua}\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(t.TempDir()) // anywhere but dir
	c, err := testCatalogue.Load(filepath.Join(dir, "redis_probe.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, pw, err := c.Auths["a"].Credentials(); pw != "from-dir" || err != nil {
		t.Errorf("password_file read as %q, %v", pw, err)
	}
	if got := c.Modules["m"].Scripts[0].ScriptFile; got != filepath.Join(dir, "scripts/q.lua") {
		t.Errorf("script_file = %q, want it under the config's directory", got)
	}
}
