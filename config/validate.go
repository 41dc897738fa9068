package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"

	"github.com/outagebot/outagebot/checks"
)

// Telegram's ceilings for messages per second across all chats, without and
// with paid broadcast. They are facts about Telegram, not defaults: the
// defaults are in default.yaml.
const (
	maxGlobalPerSecond     = 30
	maxPaidGlobalPerSecond = 1000
)

// idPattern is what a service id may look like: ids are typed in commands
// and carried in callback data, which Telegram caps at 64 bytes.
var idPattern = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// orgPattern is what metastatus.com's org ids look like.
var orgPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// Validate reports every mistake in c as *Error values keyed by path, joined
// with errors.Join when there are several. They carry no file or line:
// Parse adds those.
func (c Config) Validate() error { return joinErrors(c.problems()) }

// report collects problems in the order the fields appear in Config.
type report []*Error

func (r *report) add(key, format string, args ...any) {
	*r = append(*r, &Error{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (c Config) problems() []*Error {
	var r report
	if err := c.CheckSchedule(c.Schedule); err != nil {
		r.add("schedule", "%v", err)
	}
	for _, t := range []struct {
		key string
		n   int
	}{
		{"thresholds.down_after", c.Thresholds.DownAfter},
		{"thresholds.single_after", c.Thresholds.SingleAfter},
		{"thresholds.up_after", c.Thresholds.UpAfter},
		{"thresholds.prove_after", c.Thresholds.ProveAfter},
	} {
		if t.n < 1 {
			r.add(t.key, "must be at least 1, got %d", t.n)
		}
	}
	for _, t := range []struct {
		key string
		d   checks.Duration
	}{
		{"thresholds.recheck", c.Thresholds.Recheck},
		{"thresholds.round_timeout", c.Thresholds.RoundTimeout},
		{"thresholds.weak_for", c.Thresholds.WeakFor},
		{"thresholds.group_window", c.Thresholds.GroupWindow},
		{"thresholds.warn_after", c.Thresholds.WarnAfter},
		{"thresholds.odd_for", c.Thresholds.OddFor},
		{"reports.window", c.Reports.Window},
		{"reports.history", c.Reports.History},
		{"reports.per_user", c.Reports.PerUser},
		{"history.retention", c.History.Retention},
	} {
		if t.d <= 0 {
			r.add(t.key, "must be a positive duration such as 5s, got %v", time.Duration(t.d))
		}
	}
	r.rates(c.Thresholds, c.Reports)
	r.limits(c.Limits)
	r.official(c.Official)
	if c.Reports.Floor < 1 {
		r.add("reports.floor", "must be at least 1 distinct reporter, got %d", c.Reports.Floor)
	}
	if !(c.Reports.Ratio > 0) || math.IsInf(c.Reports.Ratio, 0) {
		r.add("reports.ratio", "must be a positive number, got %v", c.Reports.Ratio)
	}
	roundTimeout := time.Duration(c.Thresholds.RoundTimeout)
	r.probes("control", c.Control, roundTimeout, true)
	r.services(c.Services, roundTimeout)
	return r
}

// minInterval is the shortest time between rounds a schedule may ask for:
// probing Meta more often only gets the bot throttled. A configuration whose
// rounds must end sooner than that (thresholds.round_timeout, as when tests
// probe local servers) may go as fast as its round_timeout.
const minInterval = 5 * time.Second

// CheckSchedule reports why spec cannot be the schedule of c's rounds: it is
// not a cron spec, or it starts rounds too often (see minInterval).
func (c Config) CheckSchedule(spec string) error {
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Errorf("invalid cron spec %q: %v", spec, err)
	}
	every, ok := everyInterval(spec)
	if !ok {
		return nil // the other specs count in minutes
	}
	least := max(time.Second, min(minInterval, time.Duration(c.Thresholds.RoundTimeout)))
	if every < least {
		return fmt.Errorf("%q would start a round every %v; rounds must be at least %v apart (e.g. @every 30s)", spec, every, least)
	}
	return nil
}

// everyInterval returns the duration of an "@every" spec, as written:
// robfig/cron would run "@every 1ms" once a second without a word.
func everyInterval(spec string) (time.Duration, bool) {
	fields := strings.Fields(spec)
	if len(fields) > 0 && (strings.HasPrefix(fields[0], "TZ=") || strings.HasPrefix(fields[0], "CRON_TZ=")) {
		fields = fields[1:]
	}
	if len(fields) != 2 || fields[0] != "@every" {
		return 0, false
	}
	d, err := time.ParseDuration(fields[1])
	return d, err == nil
}

func (r *report) limits(l Limits) {
	for _, v := range []struct {
		key string
		v   float64
	}{
		{"limits.global_per_second", l.GlobalPerSecond},
		{"limits.chat_per_second", l.ChatPerSecond},
		{"limits.group_per_minute", l.GroupPerMinute},
	} {
		if !(v.v > 0) || math.IsInf(v.v, 0) {
			r.add(v.key, "must be a positive number, got %v", v.v)
		}
	}
	if !(l.AlertShare > 0 && l.AlertShare < 1) {
		r.add("limits.alert_share", "must be more than 0 and less than 1 (0 would starve alerts, 1 replies), got %v", l.AlertShare)
	}
	switch {
	case math.IsInf(l.GlobalPerSecond, 0):
		// Reported above.
	case l.PaidBroadcast && l.GlobalPerSecond > maxPaidGlobalPerSecond:
		r.add("limits.global_per_second", "%v exceeds Telegram's %d messages per second with paid broadcast",
			l.GlobalPerSecond, maxPaidGlobalPerSecond)
	case !l.PaidBroadcast && l.GlobalPerSecond > maxGlobalPerSecond:
		r.add("limits.global_per_second", "%v exceeds Telegram's %d messages per second (paid_broadcast: true allows up to %d)",
			l.GlobalPerSecond, maxGlobalPerSecond, maxPaidGlobalPerSecond)
	}
}

func (r *report) official(o Official) {
	if o.URL == "" {
		return // disabled
	}
	if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.add("official.url", "invalid URL %q (want e.g. https://metastatus.com, or empty to disable)", o.URL)
	}
	if o.Every <= 0 {
		r.add("official.every", "must be a positive duration such as 2m, got %v", time.Duration(o.Every))
	}
	if o.Timeout <= 0 {
		r.add("official.timeout", "must be a positive duration such as 10s, got %v", time.Duration(o.Timeout))
	}
}

func (r *report) services(ss []checks.Service, roundTimeout time.Duration) {
	if len(ss) == 0 {
		r.add("services", "at least one service is required")
		return
	}
	owner := make(map[string]string) // lower-case id or alias -> id of the service it names
	for i, s := range ss {
		key := fmt.Sprintf("services[%d]", i)
		if !idPattern.MatchString(s.ID) {
			r.add(key+".id", "invalid id %q (want 1 to 32 of a-z, 0-9 and _: ids appear in commands and buttons)", s.ID)
		}
		r.claim(owner, key+".id", s.ID, s.ID)
		for j, a := range s.Aliases {
			akey := fmt.Sprintf("%s.aliases[%d]", key, j)
			if a == "" || strings.ContainsFunc(a, unicode.IsSpace) {
				r.add(akey, "invalid alias %q (want one word: aliases are typed after commands)", a)
				continue
			}
			r.claim(owner, akey, a, s.ID)
		}
		if strings.TrimSpace(s.Name) == "" {
			r.add(key+".name", "a name is required")
		}
		if len(s.Probes) == 0 {
			r.add(key+".probes", "at least one probe is required")
		}
		for j, org := range s.Official {
			if !orgPattern.MatchString(org) {
				r.add(fmt.Sprintf("%s.official[%d]", key, j), "invalid metastatus org id %q (e.g. whatsapp-business-api)", org)
			}
		}
		r.probes(key+".probes", s.Probes, roundTimeout, false)
	}
}

// claim records that name (an id or alias) refers to service id, reporting
// the name if another id or alias took it first: lookups ignore case.
func (r *report) claim(owner map[string]string, key, name, id string) {
	if name == "" {
		return
	}
	lower := strings.ToLower(name)
	if prev, ok := owner[lower]; ok {
		r.add(key, "%q already names service %q (ids and aliases must be unique, ignoring case)", name, prev)
		return
	}
	owner[lower] = id
}

// probes checks a list of probes; control says whether they are the
// control probes, which alone may have a role.
func (r *report) probes(key string, ps []checks.ProbeSpec, roundTimeout time.Duration, control bool) {
	seen := make(map[string]bool, len(ps))
	for i, p := range ps {
		pkey := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case strings.TrimSpace(p.Name) == "":
			r.add(pkey+".name", "a name is required")
		case seen[p.Name]:
			r.add(pkey+".name", "duplicate probe name %q", p.Name)
		}
		seen[p.Name] = true
		r.probe(pkey, p, roundTimeout)
		if p.Role != "" {
			r.role(pkey, p, control)
		}
	}
}

func (r *report) probe(key string, p checks.ProbeSpec, roundTimeout time.Duration) {
	var checkTarget func(string) error
	switch p.Kind {
	case "http":
		checkTarget = checkURL
	case "dns":
		checkTarget = checkDNSName
	case "tcp", "tls":
		checkTarget = checkHostPort
	case "websocket":
		checkTarget = checkWebSocketURL
	default:
		r.add(key+".kind", "unknown probe kind %q (want http, dns, tcp, tls or websocket)", p.Kind)
	}
	switch {
	case p.Target == "" && len(p.Targets) == 0:
		r.add(key+".target", "a target is required")
	case p.Target != "" && len(p.Targets) > 0:
		r.add(key+".targets", "set target or targets, not both")
	case p.Target != "" && checkTarget != nil:
		if err := checkTarget(p.Target); err != nil {
			r.add(key+".target", "invalid %s target %q: %v", p.Kind, p.Target, err)
		}
	}
	switch t := time.Duration(p.Timeout); {
	case t < 0:
		r.add(key+".timeout", "must not be negative, got %v", t)
	case roundTimeout > 0 && t > roundTimeout:
		r.add(key+".timeout", "%v exceeds thresholds.round_timeout (%v)", t, roundTimeout)
	}
	if checkTarget == nil {
		// Which fields belong is unknown when the kind is.
		return
	}
	http, dns, tls, web := []string{"http"}, []string{"dns"}, []string{"tls"}, []string{"http", "websocket"}
	connect := []string{"tcp", "tls"}
	for _, f := range []struct {
		name  string
		kinds []string
		set   bool
	}{
		{"method", http, p.Method != ""},
		{"status", http, len(p.Status) > 0},
		{"body_contains", http, p.BodyContains != ""},
		{"json", http, len(p.JSON) > 0},
		{"max_bytes", http, p.MaxBytes != 0},
		{"follow_redirects", http, p.FollowRedirects},
		{"headers", web, len(p.Headers) > 0},
		{"resolver", dns, p.Resolver != ""},
		{"record", dns, p.Record != ""},
		{"min_answers", dns, p.MinAnswers != 0},
		{"resolvers", dns, len(p.Resolvers) > 0},
		{"authoritative", dns, p.Authoritative},
		{"server_name", tls, p.ServerName != ""},
		{"targets", connect, len(p.Targets) > 0},
	} {
		if f.set && !slices.Contains(f.kinds, p.Kind) {
			r.add(key+"."+f.name, "applies to %s probes only, this one is %s", strings.Join(f.kinds, " and "), p.Kind)
		}
	}
	switch p.Kind {
	case "http":
		for j, sr := range p.Status {
			skey := fmt.Sprintf("%s.status[%d]", key, j)
			switch {
			case sr.Low == sr.High && (sr.Low < 100 || sr.Low > 599):
				r.add(skey, "invalid HTTP status %d (want 100-599)", sr.Low)
			case sr.Low < 100 || sr.High > 599:
				r.add(skey, "invalid HTTP status range %s (want codes within 100-599)", sr)
			case sr.Low > sr.High:
				r.add(skey, "invalid HTTP status range %s (write the lower code first)", sr)
			}
		}
		if p.MaxBytes < 0 {
			r.add(key+".max_bytes", "must not be negative, got %d", p.MaxBytes)
		}
	case "dns":
		if p.Resolver != "" {
			if err := checkHostPort(p.Resolver); err != nil {
				r.add(key+".resolver", "invalid resolver %q: %v", p.Resolver, err)
			}
			if len(p.Resolvers) > 0 {
				r.add(key+".resolvers", "set resolver or resolvers, not both")
			}
		}
		r.hostPorts(key+".resolvers", "resolver", p.Resolvers)
		switch p.Record {
		case "", "A", "AAAA", "NS", "CNAME", "TXT":
		default:
			r.add(key+".record", "unknown record type %q (want A, AAAA, NS, CNAME or TXT)", p.Record)
		}
		if p.MinAnswers < 0 {
			r.add(key+".min_answers", "must not be negative, got %d", p.MinAnswers)
		}
	case "tcp", "tls":
		r.hostPorts(key+".targets", "target", p.Targets)
		if p.ServerName != "" {
			if err := checkDNSName(p.ServerName); err != nil {
				r.add(key+".server_name", "invalid server name %q: %v", p.ServerName, err)
			}
		}
	}
}

// hostPorts checks a list of distinct host:port addresses at key, each a
// what (resolver, target).
func (r *report) hostPorts(key, what string, list []string) {
	seen := make(map[string]bool, len(list))
	for j, addr := range list {
		akey := fmt.Sprintf("%s[%d]", key, j)
		if err := checkHostPort(addr); err != nil {
			r.add(akey, "invalid %s %q: %v", what, addr, err)
		} else if seen[addr] {
			r.add(akey, "duplicate %s %q", what, addr)
		}
		seen[addr] = true
	}
}

// role checks the role of probe p, which only control probes may have, and
// that p can check what its role says: the offline rules trust it to.
func (r *report) role(key string, p checks.ProbeSpec, control bool) {
	key += ".role"
	if !control {
		r.add(key, "applies to control probes only")
		return
	}
	resolver := p.Resolver != "" || len(p.Resolvers) > 0
	switch p.Role {
	case checks.RoleWeb:
		// Any kind: control probes written before roles existed are web
		// probes, whatever they are.
	case checks.RolePublicDNS:
		if p.Kind != "dns" || !resolver || p.Authoritative {
			r.add(key, "public_dns wants a dns probe that names its resolver or resolvers, not authoritative")
		}
	case checks.RoleSystemDNS:
		if p.Kind != "dns" || resolver || p.Authoritative {
			r.add(key, "system_dns wants a dns probe without resolver, resolvers or authoritative: it asks this machine's own resolver")
		}
	case checks.RoleRoute:
		if p.Kind == "dns" {
			r.add(key, "route wants a probe that connects to a host (tcp, tls, http or websocket), not dns")
		}
	default:
		r.add(key, "unknown role %q (want web, public_dns, system_dns or route)", p.Role)
	}
}

// checkURL accepts absolute http and https URLs with a host.
func checkURL(s string) error { return checkSchemeURL(s, "http", "https") }

// checkWebSocketURL accepts absolute ws and wss URLs with a host.
func checkWebSocketURL(s string) error { return checkSchemeURL(s, "ws", "wss") }

// checkSchemeURL accepts absolute URLs with a host whose scheme is plain
// or secure.
func checkSchemeURL(s, plain, secure string) error {
	u, err := url.Parse(s)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			return ue.Err // the URL itself is already in the message
		}
		return err
	}
	if u.Scheme != plain && u.Scheme != secure {
		return fmt.Errorf("want a URL beginning with %s:// or %s://", plain, secure)
	}
	if u.Hostname() == "" {
		return errors.New("the URL has no host")
	}
	return nil
}

// checkDNSName accepts host names as resolvers take them: dot-separated
// labels of letters, digits, hyphens and underscores (as in _dmarc), with an
// optional final dot.
func checkDNSName(s string) error {
	name := strings.TrimSuffix(s, ".")
	if name == "" || len(name) > 253 {
		return errors.New("want a DNS name of 1 to 253 characters")
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("label %q must have 1 to 63 characters", label)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("label %q must not begin or end with a hyphen", label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("label %q has %q (want letters, digits, - and _)", label, c)
			}
		}
	}
	return nil
}

// checkHostPort accepts host:port with a DNS name or IP address and a
// numeric port.
func checkHostPort(s string) error {
	if strings.Contains(s, "://") {
		return errors.New("want host:port, not a URL")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("want host:port")
	}
	if host == "" {
		return errors.New("the host is missing")
	}
	if net.ParseIP(host) == nil {
		if err := checkDNSName(host); err != nil {
			return err
		}
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// rates checks the probabilities of the detector's tests.
func (r *report) rates(th checks.Thresholds, rep checks.ReportRule) {
	for _, p := range []struct {
		key string
		v   float64
	}{
		{"thresholds.noise", th.Noise},
		{"thresholds.failure_rate", th.FailureRate},
		{"thresholds.false_recovery", th.FalseRecovery},
		{"reports.significance", rep.Significance},
	} {
		if !(p.v > 0 && p.v < 1) {
			r.add(p.key, "must be a probability between 0 and 1 (exclusive), got %v", p.v)
		}
	}
	if th.Noise > 0 && th.FailureRate < 1 && th.Noise >= th.FailureRate {
		r.add("thresholds.failure_rate", "%v must be above thresholds.noise (%v): an outage must fail more often than a healthy probe", th.FailureRate, th.Noise)
	}
	if th.SingleAfter > 0 && th.SingleAfter < th.DownAfter {
		r.add("thresholds.single_after", "%d must be at least thresholds.down_after (%d): one probe alone is weaker evidence than two", th.SingleAfter, th.DownAfter)
	}
}
