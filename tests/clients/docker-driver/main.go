// Command docker-driver drives Docker's own `fluentd` log driver
// (github.com/docker/docker/daemon/logger/fluentd) exactly the way dockerd
// does, so logferry's end-to-end tests can check what a real Docker daemon
// sends. Built in GOPATH mode against the Debian 12 packages by
// .ci/install-deps.sh (binary: target/e2e-clients/docker-driver).
//
// What dockerd does, and what this program copies (read in the Debian source
// /usr/share/gocode/src/github.com/docker/docker, docker 20.10.24+dfsg1,
// with fluent-logger-golang 1.9.0):
//   - container/container.go StartLogger: logger.ValidateLogOpts at create,
//     logger.GetLogDriver("fluentd") then creator(logger.Info{Config, ContainerID
//     (64 hex), ContainerName ("/web": container names keep their leading '/'),
//     ContainerImageID ("sha256:..."), ContainerImageName, ContainerCreated,
//     ContainerEnv, ContainerLabels, DaemonName: "docker", ...}).
//   - container.StartLogger wires stdout/stderr through logger.NewCopier
//     (daemon/logger/copier.go). The copier reads 2 KiB at a time into a 16 KiB
//     buffer (the fluentd driver is not a SizedLogger), takes a fresh message
//     from the pool with logger.NewMessage() for every line, strips the '\n'
//     and sets Timestamp = time.Now().UTC(). A line that does not fit in 16 KiB
//     is cut into 16384-byte pieces with PLogMetaData{ID: 64 random hex,
//     Ordinal: 1,2,3..., Last: false...true}; every piece of one line carries
//     the timestamp of its first piece. Input that ends without '\n' is sent as
//     a partial piece with Last=false and no closing piece. This program
//     feeds its lines through that same logger.NewCopier, so -line-bytes over
//     16384 gives real partial messages.
//   - fluentd.Log builds map[string]string{container_id, container_name,
//     source, log} + extra attributes (log-opts labels/labels-regex/env/
//     env-regex select container labels/env; they are written after the fixed
//     keys and may overwrite them) + for partial pieces partial_message "true",
//     partial_id, partial_ordinal (decimal, from 1), partial_last
//     "true"|"false". It then calls logger.PutMessage(msg) (the message goes
//     back to the pool: it is never reused by the caller) and
//     fluent.PostWithTime(tag, ts, data).
//   - Log options accepted by ValidateLogOpt in this version: env, env-regex,
//     labels, labels-regex, tag, fluentd-address, fluentd-async,
//     fluentd-async-connect (deprecated; both together = error),
//     fluentd-buffer-limit, fluentd-max-retries, fluentd-request-ack,
//     fluentd-retry-wait, fluentd-sub-second-precision (plus the generic
//     mode / max-buffer-size). There is NO fluentd-async-reconnect-interval in
//     20.10. Defaults: address tcp 127.0.0.1:24224, buffer limit 1048576
//     messages, retry wait 1s, max retries MaxInt32, tag "{{.ID}}" (12-char
//     short id).
//   - fluent-logger-golang 1.9.0 EncodeData: one frame per line, Message mode
//     with 4 elements [tag, time, record, option]. time = msgp int64 written
//     minimally (a current unix time is D2 int32) or, with
//     fluentd-sub-second-precision, EventTime ext 0 fixext8 (D7 00 sec nsec).
//     option = {} (80), or {"chunk": base64(LE int64 unix secs || 8 random
//     bytes)} (24 chars, no newline) with fluentd-request-ack; the client then
//     reads one msgpack {"ack": ...} before the next write, and on mismatch or
//     read error closes, reconnects and resends (up to fluentd-max-retries).
//   - Sync mode connects in New (New fails if the server is down). Async mode
//     (fluentd-async=true) sets ForceStopAsyncSend, so Close() DISCARDS events
//     still queued ("Discarding queued events..." on stderr): that is why
//     -close-delay defaults to 1s with -async.
//
// Usage:
//
//	docker-driver -address tcp://127.0.0.1:24224 [-tag T] [-async]
//	  [-request-ack] [-sub-second] [-count N] [-prefix STR] [-stdin]
//	  [-source stdout|stderr] [-line-bytes N] [-container-id HEX64]
//	  [-name /web] [-opt key=value]... [-container-label k=v]...
//	  [-container-env K=V]... [-close-delay D] [-timeout D]
//
// Line i (from 0) is <prefix><i>, right-padded with 'x' to -line-bytes bytes
// when that is larger. On success it prints "sent N" (N = number of
// Log calls, i.e. one per frame: lines plus extra partial pieces) and exits 0.
// Exit 1 with the error if New, any Log or Close fails; 2 on bad usage; 3 if
// -timeout expires first.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/daemon/logger"
	_ "github.com/docker/docker/daemon/logger/fluentd" // registers the "fluentd" driver, as dockerd does
)

const defaultContainerID = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

type kvList []string

func (l *kvList) String() string     { return strings.Join(*l, ",") }
func (l *kvList) Set(v string) error { *l = append(*l, v); return nil }

// countingLogger records how many Log calls succeeded and the first error,
// because logger.Copier only logs driver errors.
type countingLogger struct {
	logger.Logger
	mu    sync.Mutex
	sent  int
	first error
}

func (c *countingLogger) Log(msg *logger.Message) error {
	err := c.Logger.Log(msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if c.first == nil {
			c.first = err
		}
	} else {
		c.sent++
	}
	return err
}

func fail(code int, format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "docker-driver: "+format+"\n", a...)
	os.Exit(code)
}

func splitKV(s string) (string, string, error) {
	i := strings.IndexByte(s, '=')
	if i <= 0 {
		return "", "", fmt.Errorf("expected key=value, got %q", s)
	}
	return s[:i], s[i+1:], nil
}

func padLine(line string, n int) string {
	if n > len(line) {
		return line + strings.Repeat("x", n-len(line))
	}
	return line
}

func main() {
	address := flag.String("address", "", "log-opt fluentd-address (e.g. tcp://127.0.0.1:24224); unset = driver default 127.0.0.1:24224")
	tag := flag.String("tag", "", "log-opt tag (Go template); unset = driver default {{.ID}}")
	async := flag.Bool("async", false, "log-opt fluentd-async=true")
	requestAck := flag.Bool("request-ack", false, "log-opt fluentd-request-ack=true")
	subSecond := flag.Bool("sub-second", false, "log-opt fluentd-sub-second-precision=true")
	count := flag.Int("count", 10, "number of generated lines")
	prefix := flag.String("prefix", "line-", "line i is <prefix><i>")
	fromStdin := flag.Bool("stdin", false, "read the container output from stdin instead of generating lines")
	source := flag.String("source", "stdout", "stream name: stdout or stderr")
	lineBytes := flag.Int("line-bytes", 0, "pad every line with 'x' to this many bytes (over 16384 = partial messages)")
	containerID := flag.String("container-id", defaultContainerID, "64 hex container id")
	name := flag.String("name", "/web", "container name as dockerd stores it (leading '/')")
	closeDelay := flag.Duration("close-delay", -1, "sleep before Close (default: 1s with -async, else 0)")
	timeout := flag.Duration("timeout", 60*time.Second, "give up (exit 3) after this long; 0 = never")
	var opts, labels, envs kvList
	flag.Var(&opts, "opt", "extra log-opt key=value (repeatable), e.g. fluentd-max-retries=3, labels=a,b, env=X")
	flag.Var(&labels, "container-label", "container label k=v (repeatable; selected by -opt labels=/labels-regex=)")
	flag.Var(&envs, "container-env", "container env K=V (repeatable; selected by -opt env=/env-regex=)")
	flag.Parse()

	if flag.NArg() != 0 {
		fail(2, "unexpected arguments: %v", flag.Args())
	}
	if *source != "stdout" && *source != "stderr" {
		fail(2, "-source must be stdout or stderr, got %q", *source)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(*containerID) {
		fail(2, "-container-id must be 64 lowercase hex digits, got %q", *containerID)
	}
	if *count < 0 || *lineBytes < 0 {
		fail(2, "-count and -line-bytes must be >= 0")
	}
	if *timeout > 0 {
		time.AfterFunc(*timeout, func() { fail(3, "timeout after %v", *timeout) })
	}

	cfg := map[string]string{}
	if *address != "" {
		cfg["fluentd-address"] = *address
	}
	if *tag != "" {
		cfg["tag"] = *tag
	}
	if *async {
		cfg["fluentd-async"] = "true"
	}
	if *requestAck {
		cfg["fluentd-request-ack"] = "true"
	}
	if *subSecond {
		cfg["fluentd-sub-second-precision"] = "true"
	}
	for _, o := range opts {
		k, v, err := splitKV(o)
		if err != nil {
			fail(2, "-opt: %v", err)
		}
		cfg[k] = v
	}
	labelMap := map[string]string{}
	for _, l := range labels {
		k, v, err := splitKV(l)
		if err != nil {
			fail(2, "-container-label: %v", err)
		}
		labelMap[k] = v
	}

	// dockerd validates log-opts when the container is created.
	if err := logger.ValidateLogOpts("fluentd", cfg); err != nil {
		fail(1, "ValidateLogOpts: %v", err)
	}
	creator, err := logger.GetLogDriver("fluentd")
	if err != nil {
		fail(1, "GetLogDriver: %v", err)
	}
	info := logger.Info{
		Config:              cfg,
		ContainerID:         *containerID,
		ContainerName:       *name,
		ContainerEntrypoint: "/bin/sh",
		ContainerArgs:       []string{"-c", "echo"},
		ContainerImageID:    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		ContainerImageName:  "logferry/e2e:latest",
		ContainerCreated:    time.Now().UTC(),
		ContainerEnv:        []string(envs),
		ContainerLabels:     labelMap,
		DaemonName:          "docker",
	}
	drv, err := creator(info)
	if err != nil {
		fail(1, "New: %v", err)
	}
	dst := &countingLogger{Logger: drv}

	// The container's output stream.
	var src io.Reader
	switch {
	case *fromStdin && *lineBytes == 0:
		src = os.Stdin
	case *fromStdin:
		pr, pw := io.Pipe()
		go func() {
			br := bufio.NewReaderSize(os.Stdin, 64*1024)
			bw := bufio.NewWriter(pw)
			for {
				line, err := br.ReadString('\n')
				if line != "" {
					hasNL := strings.HasSuffix(line, "\n")
					line = strings.TrimSuffix(line, "\n")
					bw.WriteString(padLine(line, *lineBytes))
					if hasNL {
						bw.WriteByte('\n')
					}
				}
				if err != nil {
					if err != io.EOF {
						bw.Flush()
						pw.CloseWithError(err)
						return
					}
					break
				}
			}
			pw.CloseWithError(bw.Flush())
		}()
		src = pr
	default:
		pr, pw := io.Pipe()
		go func() {
			bw := bufio.NewWriter(pw)
			for i := 0; i < *count; i++ {
				bw.WriteString(padLine(*prefix+strconv.Itoa(i), *lineBytes))
				bw.WriteByte('\n')
			}
			pw.CloseWithError(bw.Flush())
		}()
		src = pr
	}

	copier := logger.NewCopier(map[string]io.Reader{*source: src}, dst)
	copier.Run()
	copier.Wait()
	copier.Close()

	delay := *closeDelay
	if delay < 0 {
		delay = 0
		if *async {
			delay = time.Second
		}
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	closeErr := drv.Close()

	dst.mu.Lock()
	sent, firstErr := dst.sent, dst.first
	dst.mu.Unlock()
	if firstErr != nil {
		fail(1, "Log: %v", firstErr)
	}
	if closeErr != nil {
		fail(1, "Close: %v", closeErr)
	}
	fmt.Printf("sent %d\n", sent)
}
