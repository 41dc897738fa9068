package checks

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// graphError is what graph.facebook.com/me answers without a token when the
// API is alive.
const graphError = `{"error":{"message":"An active access token must be used to query information about the current user.","type":"OAuthException","code":2500,"fbtrace_id":"Abc"}}`

// newTestSite serves the answers Meta's sites give, healthy or not.
func newTestSite(t testing.TB) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "hello world")
	})
	mux.HandleFunc("/503", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "Sorry, something went wrong", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/403", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	})
	mux.HandleFunc("/429", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	mux.HandleFunc("/404", http.NotFound)
	mux.HandleFunc("/instagram-data", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/accounts/login/?next=/instagram-data", http.StatusFound)
	})
	mux.HandleFunc("/facebook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login.php", http.StatusFound)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new-home", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/redirect/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			fmt.Fprint(w, "arrived")
			return
		}
		http.Redirect(w, r, "/redirect/"+strconv.Itoa(n-1), http.StatusFound)
	})
	mux.HandleFunc("/graph", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, graphError)
	})
	mux.HandleFunc("/graph-html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, "<html><body>Sorry, something went wrong.</body></html>")
	})
	mux.HandleFunc("/list", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"items":[{"id":1},{"id":2.50,"ok":true,"tags":["a"]}]}`)
	})
	mux.HandleFunc("/late-needle", func(w http.ResponseWriter, _ *http.Request) {
		w.Write(bytes.Repeat([]byte("a"), defaultMaxBytes))
		fmt.Fprint(w, "needle")
	})
	mux.HandleFunc("/hang", func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/hang-in-body", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "start of the body")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPProbe(t *testing.T) {
	srv := newTestSite(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	probers := NewProbers(ProberOptions{HTTPClient: srv.Client()})
	graphJSON := map[string]string{"error.type": "OAuthException", "error.code": "2500"}
	tests := []struct {
		name   string
		spec   ProbeSpec // Target is a path on srv
		short  bool      // the probe is expected to time out
		class  Class
		detail string // regular expression
	}{
		{name: "ok", spec: ProbeSpec{Target: "/ok"}, class: ClassOK, detail: "HTTP 200"},
		{name: "body contains", spec: ProbeSpec{Target: "/ok", BodyContains: "world"}, class: ClassOK, detail: "HTTP 200"},
		{name: "body lacks", spec: ProbeSpec{Target: "/ok", BodyContains: "goodbye"}, class: ClassBodyMismatch, detail: `body lacks "goodbye"`},
		{name: "5xx", spec: ProbeSpec{Target: "/503"}, class: ClassHTTP5xx, detail: "HTTP 503"},
		{name: "accepted 5xx", spec: ProbeSpec{Target: "/503", Status: []StatusRange{{503, 503}}}, class: ClassOK, detail: "HTTP 503"},
		{name: "403", spec: ProbeSpec{Target: "/403"}, class: ClassHTTPBlocked, detail: "HTTP 403"},
		{name: "429 with Retry-After", spec: ProbeSpec{Target: "/429"}, class: ClassHTTPBlocked, detail: "HTTP 429, Retry-After 120"},
		{name: "404", spec: ProbeSpec{Target: "/404"}, class: ClassHTTPUnexpected, detail: "HTTP 404"},
		{name: "status not in list", spec: ProbeSpec{Target: "/ok", Status: []StatusRange{{204, 204}}}, class: ClassHTTPUnexpected, detail: "HTTP 200"},
		{name: "status in a range", spec: ProbeSpec{Target: "/404", Status: []StatusRange{{200, 499}}}, class: ClassOK, detail: "HTTP 404"},
		{name: "5xx outside the range", spec: ProbeSpec{Target: "/503", Status: []StatusRange{{200, 499}}}, class: ClassHTTP5xx, detail: "HTTP 503"},
		{name: "range ends included", spec: ProbeSpec{Target: "/403", Status: []StatusRange{{200, 299}, {403, 404}}}, class: ClassOK, detail: "HTTP 403"},
		// A range with a hole at 429 leaves the throttled answer to the back-off.
		{name: "429 left out of the ranges", spec: ProbeSpec{Target: "/429", Status: []StatusRange{{200, 428}, {430, 499}}},
			class: ClassHTTPBlocked, detail: "HTTP 429, Retry-After 120"},
		{name: "login wall", spec: ProbeSpec{Target: "/instagram-data"}, class: ClassHTTPBlocked,
			detail: "HTTP 302 to " + host + "/accounts/login/"},
		{name: "login.php wall", spec: ProbeSpec{Target: "/facebook"}, class: ClassHTTPBlocked,
			detail: "HTTP 302 to " + host + "/login.php"},
		{name: "accepted login redirect", spec: ProbeSpec{Target: "/facebook", Status: []StatusRange{{200, 200}, {302, 302}}}, class: ClassOK, detail: "HTTP 302"},
		{name: "other redirect", spec: ProbeSpec{Target: "/moved"}, class: ClassHTTPUnexpected,
			detail: "HTTP 301 to " + host + "/new-home"},
		{name: "redirect not followed", spec: ProbeSpec{Target: "/redirect/1"}, class: ClassHTTPUnexpected,
			detail: "HTTP 302 to " + host + "/redirect/0"},
		{name: "redirects followed", spec: ProbeSpec{Target: "/redirect/5", FollowRedirects: true, BodyContains: "arrived"}, class: ClassOK, detail: "HTTP 200"},
		// Five redirects are followed (9 to 4); the sixth is the answer.
		{name: "too many redirects", spec: ProbeSpec{Target: "/redirect/9", FollowRedirects: true}, class: ClassHTTPUnexpected,
			detail: "HTTP 302 to " + host + "/redirect/3"},
		{name: "graph alive", spec: ProbeSpec{Target: "/graph", Status: []StatusRange{{400, 400}}, JSON: graphJSON}, class: ClassOK, detail: "HTTP 400"},
		{name: "graph status not accepted", spec: ProbeSpec{Target: "/graph", JSON: graphJSON}, class: ClassHTTPUnexpected, detail: "HTTP 400"},
		{name: "graph answers HTML", spec: ProbeSpec{Target: "/graph-html", Status: []StatusRange{{400, 400}}, JSON: graphJSON}, class: ClassBodyMismatch, detail: "body is not JSON"},
		{name: "graph wrong type", spec: ProbeSpec{Target: "/graph", Status: []StatusRange{{400, 400}}, JSON: map[string]string{"error.type": "X"}},
			class: ClassBodyMismatch, detail: `JSON error.type = "OAuthException", want "X"`},
		{name: "graph code present, any value", spec: ProbeSpec{Target: "/graph", Status: []StatusRange{{400, 400}}, JSON: map[string]string{"error.code": AnyJSONValue}},
			class: ClassOK, detail: "HTTP 400"},
		{name: "graph object present, any value", spec: ProbeSpec{Target: "/graph", Status: []StatusRange{{400, 400}}, JSON: map[string]string{"error": AnyJSONValue}},
			class: ClassOK, detail: "HTTP 400"},
		{name: "graph code absent", spec: ProbeSpec{Target: "/graph", Status: []StatusRange{{400, 400}}, JSON: map[string]string{"error.error_subcode": AnyJSONValue}},
			class: ClassBodyMismatch, detail: `JSON error.error_subcode missing`},
		{name: "any value asks for JSON", spec: ProbeSpec{Target: "/graph-html", Status: []StatusRange{{400, 400}}, JSON: map[string]string{"error.code": AnyJSONValue}},
			class: ClassBodyMismatch, detail: "body is not JSON"},
		{name: "graph path missing", spec: ProbeSpec{Target: "/graph", Status: []StatusRange{{400, 400}}, JSON: map[string]string{"error.error_subcode": "463"}},
			class: ClassBodyMismatch, detail: `JSON error.error_subcode missing, want "463"`},
		{name: "graph cut by max bytes", spec: ProbeSpec{Target: "/graph", Status: []StatusRange{{400, 400}}, JSON: graphJSON, MaxBytes: 20},
			class: ClassBodyMismatch, detail: "body is not JSON within its first 20 bytes"},
		{name: "json array, number text, bool, list", spec: ProbeSpec{Target: "/list", JSON: map[string]string{
			"items.0.id": "1", "items.1.id": "2.50", "items.1.ok": "true", "items.1.tags": `["a"]`}}, class: ClassOK, detail: "HTTP 200"},
		{name: "json index out of range", spec: ProbeSpec{Target: "/list", JSON: map[string]string{"items.2.id": "3"}},
			class: ClassBodyMismatch, detail: `JSON items.2.id missing, want "3"`},
		{name: "json path through a scalar", spec: ProbeSpec{Target: "/list", JSON: map[string]string{"items.0.id.x": "1"}},
			class: ClassBodyMismatch, detail: `JSON items.0.id.x missing, want "1"`},
		{name: "needle past the read limit", spec: ProbeSpec{Target: "/late-needle", BodyContains: "needle"}, class: ClassBodyMismatch, detail: `body lacks "needle"`},
		{name: "needle within a raised limit", spec: ProbeSpec{Target: "/late-needle", BodyContains: "needle", MaxBytes: 2 * defaultMaxBytes}, class: ClassOK, detail: "HTTP 200"},
		{name: "no answer", spec: ProbeSpec{Target: "/hang"}, short: true, class: ClassHTTPTimeout, detail: "timeout after " + durationRE},
		{name: "body stalls", spec: ProbeSpec{Target: "/hang-in-body"}, short: true, class: ClassHTTPTimeout, detail: "timeout after " + durationRE + " reading the body"},
		{name: "invalid URL", spec: ProbeSpec{Target: "/%zz"}, class: ClassHTTPUnexpected, detail: "invalid request: .*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Kind, spec.Target = "http", srv.URL+spec.Target
			timeout := probeTimeout
			if tt.short {
				timeout = shortTimeout
			}
			checkResult(t, runProbe(t, probers, spec, timeout), tt.class, tt.detail)
		})
	}
}

func TestHTTPRequest(t *testing.T) {
	tests := []struct {
		name      string
		userAgent string
		spec      ProbeSpec
		want      http.Header
		method    string
		host      string // empty means the server's own address
	}{
		{
			name:   "defaults",
			spec:   ProbeSpec{},
			method: "GET",
			want:   http.Header{"User-Agent": {defaultUserAgent}},
		},
		{
			name:      "method, headers and user agent",
			userAgent: "outagebot-test/1",
			spec:      ProbeSpec{Method: "POST", Headers: map[string]string{"Origin": "https://web.whatsapp.com"}},
			method:    "POST",
			want:      http.Header{"User-Agent": {"outagebot-test/1"}, "Origin": {"https://web.whatsapp.com"}},
		},
		{
			name:   "host",
			spec:   ProbeSpec{Headers: map[string]string{"host": "www.threads.com"}},
			method: "GET",
			host:   "www.threads.com",
			want:   http.Header{"User-Agent": {defaultUserAgent}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan *http.Request, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got <- r
			}))
			defer srv.Close()
			probers := NewProbers(ProberOptions{HTTPClient: srv.Client(), UserAgent: tt.userAgent})
			spec := tt.spec
			spec.Kind, spec.Target = "http", srv.URL
			checkResult(t, runProbe(t, probers, spec, probeTimeout), ClassOK, "HTTP 200")
			r := <-got
			if r.Method != tt.method {
				t.Errorf("method %s, want %s", r.Method, tt.method)
			}
			wantHost := tt.host
			if wantHost == "" {
				wantHost = strings.TrimPrefix(srv.URL, "http://")
			}
			if r.Host != wantHost {
				t.Errorf("host %s, want %s", r.Host, wantHost)
			}
			for k := range tt.want {
				if diff := cmp.Diff(tt.want[k], r.Header[k]); diff != "" {
					t.Errorf("header %s (-want +got):\n%s", k, diff)
				}
			}
		})
	}
}

// TestHTTPBoundedRead proves a probe reads at most MaxBytes of an endless
// answer: the server could not write its gigabyte.
func TestHTTPBoundedRead(t *testing.T) {
	const size = 1 << 30
	var written atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for written.Load() < size {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	probers := NewProbers(ProberOptions{HTTPClient: srv.Client()})
	r := runProbe(t, probers, ProbeSpec{Kind: "http", Target: srv.URL}, probeTimeout)
	srv.Close() // waits for the handler, so written is final
	checkResult(t, r, ClassOK, "HTTP 200")
	if n := written.Load(); n >= size {
		t.Errorf("server wrote all %d bytes: the probe read them", n)
	}
}

func TestHTTPTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "secure")
	}))
	// The handshake the untrusting client aborts is expected, not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	tests := []struct {
		name   string
		opts   ProberOptions
		class  Class
		detail string
	}{
		{"trusted", ProberOptions{HTTPClient: srv.Client()}, ClassOK, "HTTP 200"},
		// The default client verifies certificates with the system's roots,
		// which do not include httptest's.
		{"untrusted", ProberOptions{}, ClassTLSError, ".*certificate.*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probers := NewProbers(tt.opts)
			r := runProbe(t, probers, ProbeSpec{Kind: "http", Target: srv.URL}, probeTimeout)
			checkResult(t, r, tt.class, tt.detail)
		})
	}
}

func TestHTTPConnectFailures(t *testing.T) {
	site := newTestSite(t)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(site.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	dnsSrv := startDNS(t)
	named := &http.Client{Transport: &http.Transport{
		DialContext:       resolvingDialer(dnsSrv.addr).DialContext,
		DisableKeepAlives: true,
	}}
	tests := []struct {
		name    string
		opts    ProberOptions
		target  string
		timeout time.Duration
		class   Class
		detail  string
	}{
		{"name resolves", ProberOptions{HTTPClient: named}, "http://up.example:" + port + "/ok", probeTimeout, ClassOK, "HTTP 200"},
		{"no such name", ProberOptions{HTTPClient: named}, "http://nx.example/", probeTimeout, ClassDNSNXDomain, "no such host nx.example"},
		{"resolver fails", ProberOptions{HTTPClient: named}, "http://broken.example/", probeTimeout, ClassDNSServFail, "DNS: server misbehaving"},
		{"refused", ProberOptions{}, "http://" + closedPort(t, "tcp") + "/", probeTimeout, ClassTCPRefused, "connection refused"},
		{"connect hangs", ProberOptions{Dialer: hangingDialer(t)}, site.URL + "/ok", shortTimeout, ClassTCPTimeout, "connect timeout after " + durationRE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probers := NewProbers(tt.opts)
			r := runProbe(t, probers, ProbeSpec{Kind: "http", Target: tt.target}, tt.timeout)
			checkResult(t, r, tt.class, tt.detail)
		})
	}
}

func TestLoginWall(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/login", true},
		{"/login/", true},
		{"/login.php", true},
		{"/accounts/login/", true},
		{"/Accounts/Login", true},
		{"/checkpoint/block/", true},
		{"/", false},
		{"/loginhelp", false},
		{"/messages/login", false},
		{"/accounts/", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := loginWall(tt.path); got != tt.want {
				t.Errorf("loginWall(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}
