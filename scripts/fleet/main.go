// Command fleet is the load of a Prometheus that scrapes a fleet through
// one exporter, for scripts/fleet.sh (and scripts/load.sh, which also
// drives the floor with it, at the exporter's rate): every target probed once per
// interval, the probes of an interval spread evenly over it (open loop:
// a slow answer delays no other probe). It prints the answers' latency
// percentiles over the last intervals (the first one, which dials every
// target, is warm-up) and the exporter's CPU and memory.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	exporter := flag.String("exporter", "http://127.0.0.1:9736", "the exporter's base URL")
	ports := flag.String("redis-ports", "6379", "comma-separated ports of the Redis servers; targets take turns over them")
	n := flag.Int("targets", 10000, "distinct targets, each on a loopback address 127.0.X.Y (X=a/250, Y=1+a%250 for address a)")
	addresses := flag.Int("addresses", 0, "loopback addresses the targets take turns over (0: one each); targets that share one differ in database number, 0-15")
	expect := flag.String("expect", "\nprobe_success 1\n", "what every answer must contain")
	interval := flag.Duration("interval", 15*time.Second, "how often each target is probed")
	intervals := flag.Int("intervals", 4, "intervals to run; the first is warm-up")
	pid := flag.Int("pid", 0, "the exporter's process id, for its CPU and memory")
	flag.Parse()

	portList := strings.Split(*ports, ",")
	urls := make([]string, *n)
	if *addresses <= 0 {
		*addresses = *n
	}
	switch {
	case *n < 1 || *intervals < 2:
		log.Fatal("need at least one target and two intervals, the first being warm-up")
	case *addresses > 256*250:
		log.Fatalf("%d addresses: 127.0.X.Y has room for %d", *addresses, 256*250)
	case (*n+*addresses-1) / *addresses > 16:
		log.Fatalf("%d targets on %d addresses: more than a Redis's 16 databases each", *n, *addresses)
	}
	for i := range urls {
		a, db := i%*addresses, i / *addresses
		t := fmt.Sprintf("redis://127.0.%d.%d:%s/%d", a/250, 1+a%250, portList[i%len(portList)], db)
		urls[i] = *exporter + "/probe?target=" + url.QueryEscape(t)
	}
	client := &http.Client{
		// As Prometheus's scrape timeout, but never under 10 s: a fast
		// run (scripts/load.sh) has intervals of milliseconds.
		Timeout:   max(*interval, 10*time.Second),
		Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 2048},
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failed    atomic.Int64
		failures  []string // the first few, to say why
		wg        sync.WaitGroup
	)
	probe := func(u string, record bool) {
		defer wg.Done()
		start := time.Now()
		resp, err := client.Get(u)
		why := ""
		switch {
		case err != nil:
			why = err.Error()
		default:
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				why = fmt.Sprintf("%s: %d %.100s", u, resp.StatusCode, body)
			} else if !strings.Contains(string(body), *expect) {
				why = fmt.Sprintf("%s: answer without %q", u, *expect)
			}
		}
		took := time.Since(start)
		if !record {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		latencies = append(latencies, took)
		if why != "" {
			failed.Add(1)
			if len(failures) < 3 {
				failures = append(failures, why)
			}
		}
	}

	step := *interval / time.Duration(*n)
	start := time.Now()
	var cpu0 float64
	var measured time.Time
	for k := range *intervals {
		if k == 1 {
			cpu0, measured = cpuSeconds(*pid), time.Now()
		}
		for j, u := range urls {
			time.Sleep(time.Until(start.Add(time.Duration(k**n+j) * step)))
			wg.Add(1)
			go probe(u, k > 0)
		}
	}
	wg.Wait()
	elapsed := time.Since(measured).Seconds()
	cpu := cpuSeconds(*pid) - cpu0

	slices.Sort(latencies)
	pct := func(q float64) time.Duration { return latencies[int(q*float64(len(latencies)-1))] }
	fmt.Printf("%d targets every %s (%.0f probes/s), %d intervals measured after 1 of warm-up: %d probes, %d failed | p50 %s p99 %s max %s | exporter CPU %.0f%% of a core, %.3f ms per probe | RSS %s MiB, peak %s MiB\n",
		*n, *interval, float64(*n)/interval.Seconds(), *intervals-1, len(latencies), failed.Load(),
		pct(0.5).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), latencies[len(latencies)-1].Round(time.Millisecond),
		100*cpu/elapsed, 1000*cpu/float64(len(latencies)), status(*pid, "VmRSS"), status(*pid, "VmHWM"))
	for _, f := range failures {
		fmt.Println("failed:", f)
	}
}

// cpuSeconds is the CPU time (user and system) process pid has used.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		log.Fatal(err)
	}
	fs := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	user, _ := strconv.ParseFloat(fs[11], 64) // fields 14 and 15 of stat(5)
	sys, _ := strconv.ParseFloat(fs[12], 64)
	return (user + sys) / 100 // USER_HZ
}

// status is a field of /proc/pid/status in MiB.
func status(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		log.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return strconv.FormatFloat(kb/1024, 'f', 1, 64)
		}
	}
	return "?"
}
