package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// buildRevision is the VCS revision of a binary built without VCS
// information, which the Docker image is: its build context leaves .git out.
// The Dockerfile sets it with -ldflags "-X main.buildRevision=…"; the
// linker is the only writer. The revision in the build info, when there is
// one, wins.
var buildRevision string

// buildInfo is what a binary knows about how it was built.
type buildInfo struct {
	version   string // the module's: a release tag, a pseudo-version, or (devel)
	revision  string // the commit; empty when unknown
	time      string // the commit's time, RFC 3339; empty when unknown
	modified  bool   // built from a tree with uncommitted changes
	goVersion string
}

// readBuild reads the build info through read (debug.ReadBuildInfo, or a
// test's), with revision standing in for a missing VCS revision.
func readBuild(read func() (*debug.BuildInfo, bool), revision string) buildInfo {
	b := buildInfo{version: "(devel)", goVersion: runtime.Version()}
	info, ok := read()
	if !ok {
		b.revision = revision
		return b
	}
	b.version = cmp.Or(info.Main.Version, b.version)
	b.goVersion = cmp.Or(info.GoVersion, b.goVersion)
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.time":
			b.time = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	b.revision = cmp.Or(b.revision, revision)
	return b
}

// write prints the build info, one "key: value" a line after the version.
func (b buildInfo) write(w io.Writer) {
	fmt.Fprintf(w, "outagebot %s\n", b.version)
	if b.revision == "" {
		fmt.Fprintln(w, "revision: unknown (built without VCS information: build from a git checkout, or give docker build --build-arg REVISION=…)")
	} else {
		fmt.Fprintf(w, "revision: %s\n", b.revision)
	}
	if b.time != "" {
		fmt.Fprintf(w, "committed: %s\n", b.time)
	}
	if b.modified {
		fmt.Fprintln(w, "modified: true (uncommitted changes were built in)")
	}
	fmt.Fprintf(w, "go: %s %s/%s\n", b.goVersion, runtime.GOOS, runtime.GOARCH)
}

// runVersion is `outagebot version` and `outagebot -version`.
func runVersion(_ context.Context, inv invocation) int {
	readBuild(debug.ReadBuildInfo, buildRevision).write(inv.stdout)
	return exitOK
}
