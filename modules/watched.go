package modules

import (
	"os"
	"sync"
	"time"
)

// watchedFile is a file the config names (password_file, TLS files), read
// at load and read again when it changes on disk, so that a rotated
// Kubernetes secret takes effect without a reload.
type watchedFile struct {
	path string

	mu      sync.Mutex
	data    []byte
	modTime time.Time
	size    int64
	version int // counts the reads that found new contents
}

// read returns the file's contents and their version, reading the file
// again only when its size or modification time changed since the last
// read.
func (f *watchedFile) read() ([]byte, int, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		return nil, 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.version > 0 && f.modTime.Equal(st.ModTime()) && f.size == st.Size() {
		return f.data, f.version, nil
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, 0, err
	}
	f.data, f.modTime, f.size = data, st.ModTime(), st.Size()
	f.version++
	return f.data, f.version, nil
}
