// Command pause is the lab's pause container: it holds a pod's namespaces open,
// reaps orphaned children (it is PID 1 when a pod shares its PID namespace) and
// exits on SIGINT/SIGTERM, like Kubernetes' own pause (which is C and not a Go module).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
