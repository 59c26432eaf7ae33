// Go versions of waza's bench workloads, for the comparison table printed by
// `cargo bench -p waza-benches --bench compare` (which runs `go run .` here when `go` is on
// PATH, with GOMAXPROCS=2 to match the 2 worker threads of the Rust executors).
//
// Each workload runs a few times; the program prints one line per workload:
//
//	BENCH <name> <median nanoseconds>
//
// The names match the rows of the Rust harness. Every workload checks its result and
// exits non-zero if it is wrong.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	spawnMany  = 10_000
	yieldTasks = 200
	yields     = 1_000
	chainDepth = 1_000
	roundTrips = 1_000
	messages   = 5_000
	fan        = 4
)

func check(name string, got, want uint64) {
	if got != want {
		fmt.Fprintf(os.Stderr, "%s: got %d, want %d\n", name, got, want)
		os.Exit(1)
	}
}

func sumBelow(n uint64) uint64 { return n * (n - 1) / 2 }

// spawn_many: start 10,000 goroutines, wait for all.
func benchSpawnMany() {
	var wg sync.WaitGroup
	var odd atomic.Uint64
	wg.Add(spawnMany)
	for i := 0; i < spawnMany; i++ {
		go func(i int) {
			odd.Add(uint64(i & 1))
			wg.Done()
		}(i)
	}
	wg.Wait()
	check("spawn_many", odd.Load(), spawnMany/2)
}

// yield_many: 200 goroutines each call runtime.Gosched 1,000 times.
func benchYieldMany() {
	var wg sync.WaitGroup
	wg.Add(yieldTasks)
	for i := 0; i < yieldTasks; i++ {
		go func() {
			for j := 0; j < yields; j++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
}

// chained_spawn: each goroutine starts the next, 1,000 deep.
func chainLink(left int, done chan<- int) {
	if left == 0 {
		done <- chainDepth
		return
	}
	go chainLink(left-1, done)
}

func benchChainedSpawn() {
	done := make(chan int, 1)
	go chainLink(chainDepth, done)
	check("chained_spawn", uint64(<-done), chainDepth)
}

// ping_pong over two channels of capacity c (0 = unbuffered, Go's rendezvous).
func pingPong(c int) uint64 {
	toPong, toPing := make(chan uint64, c), make(chan uint64, c)
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
	return v
}

// producers send 0..messages between them, consumers receive; returns the received sum.
func fanInOut(c, producers, consumers int) uint64 {
	ch := make(chan uint64, c)
	per := uint64(messages / producers)
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
	return total
}

// select over n channels, each fed by its own producer; the consumer selects until all
// are closed.
func selectN(n int) uint64 {
	chans := make([]chan uint64, n)
	per := uint64(messages / n)
	for i := range chans {
		chans[i] = make(chan uint64, 16)
		go func(ch chan<- uint64, p uint64) {
			for v := p * per; v < (p+1)*per; v++ {
				ch <- v
			}
			close(ch)
		}(chans[i], uint64(i))
	}
	for len(chans) < 4 {
		chans = append(chans, nil) // a nil channel never fires
	}
	sum, open := uint64(0), n
	for open > 0 {
		select {
		case v, ok := <-chans[0]:
			sum, open = recvOrClose(chans, 0, v, ok, sum, open)
		case v, ok := <-chans[1]:
			sum, open = recvOrClose(chans, 1, v, ok, sum, open)
		case v, ok := <-chans[2]:
			sum, open = recvOrClose(chans, 2, v, ok, sum, open)
		case v, ok := <-chans[3]:
			sum, open = recvOrClose(chans, 3, v, ok, sum, open)
		}
	}
	return sum
}

func recvOrClose(chans []chan uint64, i int, v uint64, ok bool, sum uint64, open int) (uint64, int) {
	if !ok {
		chans[i] = nil
		return sum, open - 1
	}
	return sum + v, open
}

// select with a timeout arm in a loop: receive 5,000 values from a producer, each select
// also arming a 1-second timer that never fires.
func selectTimeout() uint64 {
	ch := make(chan uint64, 16)
	go func() {
		for v := uint64(0); v < messages; v++ {
			ch <- v
		}
		close(ch)
	}()
	sum := uint64(0)
	for {
		timer := time.NewTimer(time.Second)
		select {
		case v, ok := <-ch:
			timer.Stop()
			if !ok {
				return sum
			}
			sum += v
		case <-timer.C:
			fmt.Fprintln(os.Stderr, "select_timeout: the timeout fired")
			os.Exit(1)
		}
	}
}

type workload struct {
	name string
	run  func()
}

func flavours() []struct {
	label string
	cap   int
} {
	return []struct {
		label string
		cap   int
	}{{"rendezvous", 0}, {"bounded(1)", 1}, {"bounded(1024)", 1024}}
}

func workloads() []workload {
	w := []workload{
		{"runtime/spawn_many", benchSpawnMany},
		{"runtime/yield_many", benchYieldMany},
		{"runtime/chained_spawn", benchChainedSpawn},
		{"runtime/ping_pong", func() { check("ping_pong", pingPong(1), 2*roundTrips) }},
	}
	for _, f := range flavours() {
		c, l := f.cap, f.label
		w = append(w,
			workload{"chan/ping_pong/" + l, func() { check("ping_pong", pingPong(c), 2*roundTrips) }},
			workload{"chan/spsc/" + l, func() { check("spsc", fanInOut(c, 1, 1), sumBelow(messages)) }},
			workload{"chan/mpsc/" + l, func() { check("mpsc", fanInOut(c, fan, 1), sumBelow(messages)) }},
			workload{"chan/mpmc/" + l, func() { check("mpmc", fanInOut(c, fan, fan), sumBelow(messages)) }},
		)
	}
	w = append(w,
		workload{"select/2", func() { check("select2", selectN(2), sumBelow(messages)) }},
		workload{"select/4", func() { check("select4", selectN(4), sumBelow(messages)) }},
		workload{"select/timeout", func() { check("select_timeout", selectTimeout(), sumBelow(messages)) }},
	)
	return w
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
	mem := flag.Bool("mem", false, "print memory per goroutine and per channel instead")
	reps := flag.Int("reps", 7, "repetitions per workload (the median is printed)")
	filter := flag.String("filter", "", "run only workloads whose name contains this")
	flag.Parse()
	if *mem {
		memory()
		return
	}
	for _, w := range workloads() {
		if !strings.Contains(w.name, *filter) {
			continue
		}
		w.run() // warm up
		times := make([]time.Duration, *reps)
		for i := range times {
			start := time.Now()
			w.run()
			times[i] = time.Since(start)
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		fmt.Printf("BENCH %s %d\n", w.name, times[len(times)/2].Nanoseconds())
	}
}
