// A static Go program (CGO_ENABLED=0). Go does not use libc: it parses the
// vDSO itself at start-up and reads its clocks through it. `goprobe hello`
// prints one line; `goprobe` runs every check and prints key=value lines.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// The clock as the system call (the sentry) reads it, in nanoseconds.
func syscallClock(id uintptr) int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, id, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "hello" {
		fmt.Println("hello from go")
		return
	}
	fmt.Println("started=1")

	// time.Now reads the vDSO (realtime and monotonic); the syscall the sentry.
	before := time.Now()
	realtime := syscallClock(0)
	after := time.Now()
	fmt.Printf("now_brackets_syscall=%t realtime_s=%d\n",
		before.UnixNano() <= realtime && realtime <= after.UnixNano(), after.Unix())
	fmt.Printf("monotonic_ns=%d\n", syscallClock(1))
	start := time.Now()
	time.Sleep(50 * time.Millisecond)
	fmt.Printf("slept_ms=%d\n", time.Since(start).Milliseconds())

	// Goroutines on several OS threads at once.
	var mutex sync.Mutex
	tids := map[int]bool{}
	var group sync.WaitGroup
	for i := 0; i < 4; i++ {
		group.Add(1)
		go func() {
			defer group.Done()
			runtime.LockOSThread()
			deadline := time.Now().Add(100 * time.Millisecond)
			for time.Now().Before(deadline) {
			}
			mutex.Lock()
			tids[syscall.Gettid()] = true
			mutex.Unlock()
		}()
	}
	group.Wait()
	fmt.Printf("threads=%d\n", len(tids))

	// An HTTP server and client over loopback.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Printf("http=listen:%v\n", strings.ReplaceAll(err.Error(), " ", "_"))
	} else {
		go http.Serve(listener, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "pong")
		}))
		response, err := http.Get("http://" + listener.Addr().String() + "/")
		if err != nil {
			fmt.Printf("http=get:%v\n", strings.ReplaceAll(err.Error(), " ", "_"))
		} else {
			body, _ := io.ReadAll(response.Body)
			fmt.Printf("http=%s\n", body)
		}
	}

	// os/exec of a child, which starts its own Go runtime after execve.
	output, err := exec.Command(os.Args[0], "hello").Output()
	if err != nil {
		fmt.Printf("exec=error:%v\n", strings.ReplaceAll(err.Error(), " ", "_"))
	} else {
		fmt.Printf("exec=%s\n", strings.ReplaceAll(strings.TrimSpace(string(output)), " ", "_"))
	}
}
