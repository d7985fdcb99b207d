// Command floor is the physical limit of a probe, for make bench: a
// minimal HTTP handler that sends one pooled INFO ALL to Redis and writes
// the reply as it came. Every probe needs at least this round trip and this
// answer; scripts/load.sh runs it beside the exporter, on the same Redis in
// the same run, and reports the exporter's figures as ratios to it.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9737", "address to serve /probe on")
	addr := flag.String("redis", "127.0.0.1:6379", "the Redis to send INFO ALL to")
	flag.Parse()
	client := redis.NewClient(&redis.Options{Addr: *addr, Protocol: 2, DisableIdentity: true})
	http.HandleFunc("/probe", func(w http.ResponseWriter, r *http.Request) {
		info, err := client.Info(r.Context(), "all").Result()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, info)
	})
	log.Fatal(http.ListenAndServe(*listen, nil))
}
