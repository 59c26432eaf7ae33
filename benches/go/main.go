// Go versions of the workloads of waza's `compare` program (benches/src/bin/compare), which
// builds this program and runs it with GOMAXPROCS set to its worker count.
//
// Modes:
//
//	go-bench              a worker: reads one command per line on stdin, runs it once,
//	                      answers one line on stdout (see serve); compare keeps one worker
//	                      alive for a whole run, so Go's rounds interleave with the Rust
//	                      columns' rounds and every run after the first is warm.
//	go-bench -idle N      N goroutines, each parked on a receive from its own channel;
//	                      prints "RSS <bytes>" (peak resident set, VmHWM). A fresh process
//	                      per measurement, like the Rust columns' child processes.
//	go-bench -mem         heap bytes per idle goroutine and per empty channel (for the
//	                      `memory` criterion bench).
//
// Every workload checks its result and the worker exits non-zero if one is wrong. Only the
// standard library is used, so no module download is needed.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go-bench: "+format+"\n", args...)
	os.Exit(1)
}

func check(name string, got, want uint64) {
	if got != want {
		fail("%s: got %d, want %d", name, got, want)
	}
}

func sumBelow(n uint64) uint64 { return n * (n - 1) / 2 }

// spawn: from a goroutine, start n goroutines and wait for all.
func spawn(n int) {
	var wg sync.WaitGroup
	var odd atomic.Uint64
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			odd.Add(uint64(i & 1))
			wg.Done()
		}(i)
	}
	wg.Wait()
	check("spawn", odd.Load(), uint64(n/2))
}

// spawnRemote: Go has no threads outside its scheduler; the nearest thing is spawning from
// a goroutine locked to its own OS thread.
func spawnRemote(n int) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		spawn(n)
		close(done)
	}()
	<-done
}

// yieldMany: tasks goroutines each call runtime.Gosched yields times.
func yieldMany(tasks, yields int) {
	var wg sync.WaitGroup
	var total atomic.Uint64
	wg.Add(tasks)
	for i := 0; i < tasks; i++ {
		go func() {
			for j := 0; j < yields; j++ {
				runtime.Gosched()
			}
			total.Add(uint64(yields))
			wg.Done()
		}()
	}
	wg.Wait()
	check("yield", total.Load(), uint64(tasks*yields))
}

// chain: each goroutine starts the next, depth deep; the last reports back.
func chainLink(depth, left int, done chan<- int) {
	if left == 0 {
		done <- depth
		return
	}
	go chainLink(depth, left-1, done)
}

func chain(depth int) {
	done := make(chan int, 1)
	go chainLink(depth, depth, done)
	check("chain", uint64(<-done), uint64(depth))
}

// pingPong: two goroutines pass a counter over two channels of capacity 1.
func pingPong(roundTrips int) {
	toPong, toPing := make(chan uint64, 1), make(chan uint64, 1)
	go func() {
		for v := range toPong {
			toPing <- v + 1
		}
	}()
	v := uint64(0)
	for i := 0; i < roundTrips; i++ {
		toPong <- v + 1
		v = <-toPing
	}
	close(toPong)
	check("ping_pong", v, uint64(2*roundTrips))
}

// fanInOut: producers send 0..messages between them over a channel of capacity c,
// consumers receive; checks the received sum.
func fanInOut(name string, c, producers, consumers int, messages uint64) {
	ch := make(chan uint64, c)
	per := messages / uint64(producers)
	var pwg sync.WaitGroup
	pwg.Add(producers)
	for p := 0; p < producers; p++ {
		go func(p uint64) {
			for v := p * per; v < (p+1)*per; v++ {
				ch <- v
			}
			pwg.Done()
		}(uint64(p))
	}
	go func() { pwg.Wait(); close(ch) }()
	sums := make(chan uint64, consumers)
	for i := 0; i < consumers; i++ {
		go func() {
			sum := uint64(0)
			for v := range ch {
				sum += v
			}
			sums <- sum
		}()
	}
	total := uint64(0)
	for i := 0; i < consumers; i++ {
		total += <-sums
	}
	check(name, total, sumBelow(messages))
}

// select2: one consumer selects over two channels of capacity 1024, each fed by its own
// producer, until both are closed.
func select2(messages uint64) {
	half := messages / 2
	a, b := make(chan uint64, 1024), make(chan uint64, 1024)
	feed := func(ch chan<- uint64, from, to uint64) {
		for v := from; v < to; v++ {
			ch <- v
		}
		close(ch)
	}
	go feed(a, 0, half)
	go feed(b, half, messages)
	sum := uint64(0)
	for a != nil || b != nil {
		select {
		case v, ok := <-a:
			if !ok {
				a = nil
			} else {
				sum += v
			}
		case v, ok := <-b:
			if !ok {
				b = nil
			} else {
				sum += v
			}
		}
	}
	check("select", sum, sumBelow(messages))
}

// firstPrimes: the first n primes, to check the sieve and to bound its generator.
func firstPrimes(n int) []uint64 {
	var found []uint64
	for k := uint64(2); len(found) < n; k++ {
		prime := true
		for _, p := range found {
			if p*p > k {
				break
			}
			if k%p == 0 {
				prime = false
				break
			}
		}
		if prime {
			found = append(found, k)
		}
	}
	return found
}

// sieve: the concurrent prime sieve of the Go tour, over channels of capacity 1; the
// generator stops at the n-th prime and closes, and every filter closes its output when
// its input closes, so every goroutine ends.
func sieve(n int) {
	primes := firstPrimes(n)
	limit := primes[n-1]
	ch := make(chan uint64, 1)
	go func(out chan<- uint64) {
		for k := uint64(2); k <= limit; k++ {
			out <- k
		}
		close(out)
	}(ch)
	sum := uint64(0)
	for i := 0; i < n; i++ {
		prime := <-ch
		sum += prime
		out := make(chan uint64, 1)
		go func(in <-chan uint64, out chan<- uint64, p uint64) {
			for k := range in {
				if k%p != 0 {
					out <- k
				}
			}
			close(out)
		}(ch, out, prime)
		ch = out
	}
	for range ch {
		fail("sieve: a number above the last prime passed every filter")
	}
	want := uint64(0)
	for _, p := range primes {
		want += p
	}
	check("sieve", sum, want)
}

// sleepOf: the same pseudo-random spread over 0..max as the Rust workload.
func sleepOf(i int, maxUs uint64) time.Duration {
	h := (uint64(i) ^ 0x5DEECE66) * 0x9E3779B97F4A7C15 >> 32
	return time.Duration(h%maxUs) * time.Microsecond
}

// timers: n goroutines each sleep a pseudo-random duration below maxUs; returns the p99
// lateness (actual minus requested) in microseconds.
func timers(n int, maxUs uint64) uint64 {
	late := make([]uint64, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			d := sleepOf(i, maxUs)
			start := time.Now()
			time.Sleep(d)
			l := time.Since(start) - d
			if l < 0 {
				l = 0
			}
			late[i] = uint64(l / time.Microsecond)
			wg.Done()
		}(i)
	}
	wg.Wait()
	sort.Slice(late, func(a, b int) bool { return late[a] < late[b] })
	rank := (99*n + 99) / 100 // nearest rank, as the Rust side computes it
	if rank < 1 {
		rank = 1
	}
	return late[rank-1]
}

// tcpEcho: conns connections × roundTrips checked round trips of 64 bytes, client and
// server in this process; the time includes the connects.
func tcpEcho(conns, roundTrips int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen: %v", err)
	}
	defer ln.Close()
	go func() {
		for i := 0; i < conns; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				buf := make([]byte, 64)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}(c)
		}
	}()
	var total atomic.Uint64
	var wg sync.WaitGroup
	wg.Add(conns)
	for i := 0; i < conns; i++ {
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				fail("dial: %v", err)
			}
			defer c.Close()
			msg, buf := make([]byte, 64), make([]byte, 64)
			for r := 0; r < roundTrips; r++ {
				for j := range msg {
					msg[j] = byte(r*31 + j)
				}
				if _, err := c.Write(msg); err != nil {
					fail("write: %v", err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					fail("read: %v", err)
				}
				if string(buf) != string(msg) {
					fail("echo differs")
				}
			}
			total.Add(uint64(roundTrips))
		}()
	}
	wg.Wait()
	check("tcp_echo", total.Load(), uint64(conns*roundTrips))
}

// vmHWM: this process's peak resident set in bytes, from /proc/self/status.
func vmHWM() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fail("read /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				fail("parse VmHWM: %v", err)
			}
			return kb * 1024
		}
	}
	fail("no VmHWM in /proc/self/status")
	return 0
}

// idle: n goroutines, each parked on a receive from its own channel of capacity 1; once all
// are parked, reads the peak RSS; then wakes each with a value and waits for all.
func idle(n int) uint64 {
	var parked, received atomic.Int64
	var wg sync.WaitGroup
	wg.Add(n)
	chans := make([]chan uint64, n)
	for i := range chans {
		ch := make(chan uint64, 1)
		chans[i] = ch
		go func() {
			parked.Add(1)
			if _, ok := <-ch; ok {
				received.Add(1)
			}
			wg.Done()
		}()
	}
	for parked.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	rss := vmHWM()
	for _, ch := range chans {
		ch <- 1
	}
	wg.Wait()
	check("idle", uint64(received.Load()), uint64(n))
	return rss
}

var httpServer *http.Server

// httpStart: a net/http "Hello, world!" server on 127.0.0.1; returns its address.
func httpStart() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen: %v", err)
	}
	mux := http.NewServeMux()
	hello := []byte("Hello, world!")
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Write(hello)
	})
	httpServer = &http.Server{Handler: mux}
	go httpServer.Serve(ln)
	return ln.Addr().String()
}

func httpStop() {
	if httpServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		httpServer.Shutdown(ctx)
		httpServer = nil
	}
}

// serve answers commands "<workload> <args...>" with "OK <nanoseconds> [<extra>]", and
// "http_start" with "ADDR <host:port>". A wrong result ends the process.
func serve() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		if len(fields) == 0 {
			continue
		}
		arg := func(i int) int {
			if i >= len(fields) {
				fail("%s: missing argument %d", fields[0], i)
			}
			n, err := strconv.Atoi(fields[i])
			if err != nil || n <= 0 {
				fail("%s: bad argument %q", fields[0], fields[i])
			}
			return n
		}
		extra := ""
		start := time.Now()
		switch fields[0] {
		case "spawn":
			spawn(arg(1))
		case "spawn_remote":
			spawnRemote(arg(1))
		case "yield":
			yieldMany(arg(1), arg(2))
		case "chain":
			chain(arg(1))
		case "ping_pong":
			pingPong(arg(1))
		case "sieve":
			sieve(arg(1))
		case "mpmc_bounded":
			fanInOut("mpmc_bounded", 1024, 4, 4, uint64(arg(1)))
		case "mpmc_rendezvous":
			fanInOut("mpmc_rendezvous", 0, 4, 4, uint64(arg(1)))
		case "mpsc_unbounded":
			// Go has no unbounded channel: a buffer that holds every value never blocks a
			// sender, which is what unbounded means here.
			fanInOut("mpsc_unbounded", arg(1), 4, 1, uint64(arg(1)))
		case "select":
			select2(uint64(arg(1)))
		case "tcp_echo":
			tcpEcho(arg(1), arg(2))
		case "timers":
			extra = strconv.FormatUint(timers(arg(1), uint64(arg(2))), 10)
		case "http_start":
			fmt.Fprintf(out, "ADDR %s\n", httpStart())
			out.Flush()
			continue
		case "http_stop":
			httpStop()
		default:
			fail("unknown command %q", fields[0])
		}
		elapsed := time.Since(start)
		fmt.Fprintf(out, "OK %d %s\n", elapsed.Nanoseconds(), extra)
		out.Flush()
	}
}

// memory prints the heap+stack bytes per idle goroutine and per empty channel.
func memory() {
	const n = 10_000
	var before, after runtime.MemStats
	block := make(chan struct{})
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() { wg.Done(); <-block }()
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	used := (after.HeapAlloc + after.StackInuse) - (before.HeapAlloc + before.StackInuse)
	fmt.Printf("MEM goroutine %d\n", used/n)
	close(block)

	for _, f := range []struct {
		label string
		cap   int
	}{{"rendezvous", 0}, {"bounded(1)", 1}} {
		keep := make([]chan uint64, n)
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range keep {
			keep[i] = make(chan uint64, f.cap)
		}
		runtime.ReadMemStats(&after)
		fmt.Printf("MEM chan_%s %d\n", f.label, (after.HeapAlloc-before.HeapAlloc)/n)
		runtime.KeepAlive(keep)
	}
}

func main() {
	mem := flag.Bool("mem", false, "print memory per goroutine and per channel")
	idleN := flag.Int("idle", 0, "park this many goroutines and print the peak RSS")
	flag.Parse()
	switch {
	case *mem:
		memory()
	case *idleN > 0:
		fmt.Printf("RSS %d\n", idle(*idleN))
	default:
		serve()
	}
}
