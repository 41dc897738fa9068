package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// probeDoc is a file with one service whose only probe has the given
// fields, the first on line 5 and each further one on the next line.
func probeDoc(fields ...string) string {
	return "services:\n  - id: x\n    name: X\n    probes:\n      - " + strings.Join(fields, "\n        ") + "\n"
}

func TestValidationRules(t *testing.T) {
	type want struct {
		line int
		key  string
		msg  string // part of the message
	}
	for _, tc := range []struct {
		name string
		yaml string
		want *want // nil: valid
	}{
		// schedule
		{"schedule not cron", "schedule: every 30s\n", &want{1, "schedule", `invalid cron spec "every 30s"`}},
		{"schedule empty", "schedule: ''\n", &want{1, "schedule", "invalid cron spec"}},
		{"schedule five fields", "schedule: '*/2 * * * *'\n", nil},
		{"schedule every minute", "schedule: '* * * * *'\n", nil},
		{"schedule hourly", "schedule: '@hourly'\n", nil},
		{"schedule every millisecond", "schedule: '@every 1ms'\n", &want{1, "schedule", `"@every 1ms" would start a round every 1ms; rounds must be at least 5s apart`}},
		{"schedule under five seconds", "schedule: '@every 4.9s'\n", &want{1, "schedule", "at least 5s apart"}},
		{"schedule under five seconds in a zone", "schedule: 'CRON_TZ=Europe/Rome @every 2s'\n", &want{1, "schedule", "at least 5s apart"}},
		{"schedule five seconds", "schedule: '@every 5s'\n", nil},
		// Rounds bounded tighter than 5 s may come as often as they end, down
		// to the second that cron counts in.
		{"schedule of short rounds", "schedule: '@every 1s'\nthresholds: {round_timeout: 900ms, recheck: 100ms}\ncontrol: []\nservices: [{id: a, name: A, probes: [{name: p, kind: tcp, target: 'x:1', timeout: 500ms}]}]\n", nil},
		{"schedule shorter than its rounds", "schedule: '@every 2s'\nthresholds: {round_timeout: 3s}\ncontrol: []\nservices: [{id: a, name: A, probes: [{name: p, kind: tcp, target: 'x:1', timeout: 1s}]}]\n", &want{1, "schedule", "at least 3s apart"}},
		{"schedule under cron's second", "schedule: '@every 500ms'\nthresholds: {round_timeout: 200ms, recheck: 100ms}\ncontrol: []\nservices: [{id: a, name: A, probes: [{name: p, kind: tcp, target: 'x:1', timeout: 100ms}]}]\n", &want{1, "schedule", "at least 1s apart"}},

		// thresholds
		{"down_after zero", "thresholds:\n  down_after: 0\n", &want{2, "thresholds.down_after", "at least 1"}},
		{"up_after negative", "thresholds:\n  up_after: -1\n", &want{2, "thresholds.up_after", "at least 1"}},
		{"recheck zero", "thresholds:\n  recheck: 0s\n", &want{2, "thresholds.recheck", "positive duration"}},
		{"round_timeout negative", "thresholds:\n  round_timeout: -1s\n", &want{2, "thresholds.round_timeout", "positive duration"}},
		{"weak_for zero", "thresholds:\n  weak_for: 0s\n", &want{2, "thresholds.weak_for", "positive duration"}},
		{"group_window negative", "thresholds:\n  group_window: -1m\n", &want{2, "thresholds.group_window", "positive duration"}},

		// official status and reports
		{"official url not a URL", "official:\n  url: metastatus\n", &want{2, "official.url", `invalid URL "metastatus"`}},
		{"official disabled", "official:\n  url: ''\n  every: 0s\n", nil},
		{"official every zero", "official:\n  every: 0s\n", &want{2, "official.every", "positive duration"}},
		{"official org id", "services:\n  - id: x\n    name: X\n    official: [WhatsApp API]\n    probes: [{name: a, kind: tcp, target: 'x:1'}]\n", &want{4, "services[0].official[0]", "invalid metastatus org id"}},
		{"reports floor zero", "reports:\n  floor: 0\n", &want{2, "reports.floor", "at least 1"}},
		{"reports ratio negative", "reports:\n  ratio: -2\n", &want{2, "reports.ratio", "positive number"}},
		{"reports per_user zero", "reports:\n  per_user: 0s\n", &want{2, "reports.per_user", "positive duration"}},

		// limits
		{"global zero", "limits:\n  global_per_second: 0\n", &want{2, "limits.global_per_second", "positive number"}},
		{"chat negative", "limits:\n  chat_per_second: -1\n", &want{2, "limits.chat_per_second", "positive number"}},
		{"group not a number", "limits:\n  group_per_minute: .nan\n", &want{2, "limits.group_per_minute", "positive number"}},
		{"group infinite", "limits:\n  group_per_minute: .inf\n", &want{2, "limits.group_per_minute", "positive number"}},
		{"global infinite", "limits:\n  global_per_second: .inf\n  paid_broadcast: true\n", &want{2, "limits.global_per_second", "positive number"}},
		{"global above 30", "limits:\n  global_per_second: 31\n", &want{2, "limits.global_per_second", "paid_broadcast: true allows up to 1000"}},
		{"global 1000 with paid broadcast", "limits:\n  global_per_second: 1000\n  paid_broadcast: true\n", nil},
		{"alert share zero", "limits:\n  alert_share: 0\n", &want{2, "limits.alert_share", "more than 0 and less than 1"}},
		{"alert share one", "limits:\n  alert_share: 1\n", &want{2, "limits.alert_share", "more than 0 and less than 1"}},
		{"alert share not a number", "limits:\n  alert_share: .nan\n", &want{2, "limits.alert_share", "more than 0 and less than 1"}},
		{"alert share most of it", "limits:\n  alert_share: 0.9\n", nil},
		{"global above 1000 with paid broadcast", "limits:\n  paid_broadcast: true\n  global_per_second: 1001\n", &want{3, "limits.global_per_second", "with paid broadcast"}},

		// services
		{"no services", "services: []\n", &want{1, "services", "at least one service"}},
		{"id upper case", "services:\n  - id: WhatsApp\n    name: W\n    probes: [{name: a, kind: tcp, target: 'x:1'}]\n", &want{2, "services[0].id", `invalid id "WhatsApp"`}},
		{"id too long", "services:\n  - id: " + strings.Repeat("a", 33) + "\n    name: W\n    probes: [{name: a, kind: tcp, target: 'x:1'}]\n", &want{2, "services[0].id", "1 to 32"}},
		{"id 32 long", "services:\n  - id: " + strings.Repeat("a", 32) + "\n    name: W\n    probes: [{name: a, kind: tcp, target: 'x:1'}]\n", nil},
		{"id missing", "services:\n  - name: W\n    probes: [{name: a, kind: tcp, target: 'x:1'}]\n", &want{2, "services[0].id", `invalid id ""`}},
		{
			"id reused",
			"services:\n  - id: a\n    name: A\n    probes: [{name: p, kind: tcp, target: 'x:1'}]\n  - id: a\n    name: B\n    probes: [{name: p, kind: tcp, target: 'x:1'}]\n",
			&want{5, "services[1].id", `"a" already names service "a"`},
		},
		{
			"alias names another service, in other case",
			"services:\n  - id: a\n    name: A\n    probes: [{name: p, kind: tcp, target: 'x:1'}]\n  - id: b\n    name: B\n    aliases: [bee, A]\n    probes: [{name: p, kind: tcp, target: 'x:1'}]\n",
			&want{7, "services[1].aliases[1]", `"A" already names service "a"`},
		},
		{
			"alias repeats its own id",
			"services:\n  - id: a\n    name: A\n    aliases:\n      - a\n    probes: [{name: p, kind: tcp, target: 'x:1'}]\n",
			&want{5, "services[0].aliases[0]", `"a" already names service "a"`},
		},
		{"alias two words", "services:\n  - id: a\n    name: A\n    aliases: ['b c']\n    probes: [{name: p, kind: tcp, target: 'x:1'}]\n", &want{4, "services[0].aliases[0]", "one word"}},
		{"name blank", "services:\n  - id: a\n    name: ' '\n    probes: [{name: p, kind: tcp, target: 'x:1'}]\n", &want{3, "services[0].name", "name is required"}},
		{"no probes", "services:\n  - id: a\n    name: A\n    probes: []\n", &want{4, "services[0].probes", "at least one probe"}},

		// probes
		{"probe name missing", probeDoc("kind: tcp", "target: x:1"), &want{5, "services[0].probes[0].name", "name is required"}},
		{
			"probe name repeated",
			"services:\n  - id: a\n    name: A\n    probes:\n      - {name: p, kind: tcp, target: 'x:1'}\n      - {name: p, kind: tcp, target: 'y:1'}\n",
			&want{6, "services[0].probes[1].name", `duplicate probe name "p"`},
		},
		{"kind unknown", probeDoc("name: p", "kind: ftp", "target: ftp://x/", "resolver: 1.1.1.1:53"), &want{6, "services[0].probes[0].kind", `unknown probe kind "ftp" (want http, dns, tcp, tls or websocket)`}},
		{"target missing", probeDoc("name: p", "kind: dns"), &want{5, "services[0].probes[0].target", "target is required"}},
		{"http target without scheme", probeDoc("name: p", "kind: http", "target: www.example.com"), &want{7, "services[0].probes[0].target", "http:// or https://"}},
		{"http target of another scheme", probeDoc("name: p", "kind: http", "target: ftp://example.com/"), &want{7, "services[0].probes[0].target", "http:// or https://"}},
		{"http target without host", probeDoc("name: p", "kind: http", "target: 'https:///x'"), &want{7, "services[0].probes[0].target", "no host"}},
		{"http target unparsable", probeDoc("name: p", "kind: http", "target: 'https://exa mple.com/'"), &want{7, "services[0].probes[0].target", "invalid http target"}},
		{"dns target a URL", probeDoc("name: p", "kind: dns", "target: https://example.com/"), &want{7, "services[0].probes[0].target", "want letters, digits"}},
		{"dns label with hyphen", probeDoc("name: p", "kind: dns", "target: -x.example.com"), &want{7, "services[0].probes[0].target", "hyphen"}},
		{"dns empty label", probeDoc("name: p", "kind: dns", "target: x..example.com"), &want{7, "services[0].probes[0].target", "1 to 63"}},
		{"dns underscore and final dot", probeDoc("name: p", "kind: dns", "target: _dmarc.example.com.", "record: TXT"), nil},
		{"tcp without port", probeDoc("name: p", "kind: tcp", "target: example.com"), &want{7, "services[0].probes[0].target", "want host:port"}},
		{"tcp without host", probeDoc("name: p", "kind: tcp", "target: ':443'"), &want{7, "services[0].probes[0].target", "host is missing"}},
		{"tcp port zero", probeDoc("name: p", "kind: tcp", "target: example.com:0"), &want{7, "services[0].probes[0].target", "1 to 65535"}},
		{"tcp port too big", probeDoc("name: p", "kind: tcp", "target: example.com:70000"), &want{7, "services[0].probes[0].target", "1 to 65535"}},
		{"tcp port by name", probeDoc("name: p", "kind: tcp", "target: example.com:https"), &want{7, "services[0].probes[0].target", "1 to 65535"}},
		{"tcp IPv6", probeDoc("name: p", "kind: tcp", "target: '[2001:db8::1]:443'"), nil},
		{"resolver on http", probeDoc("name: p", "kind: http", "target: https://example.com/", "resolver: 1.1.1.1:53"), &want{8, "services[0].probes[0].resolver", "applies to dns probes only, this one is http"}},
		{"status on dns", probeDoc("name: p", "kind: dns", "target: example.com", "status: [200]"), &want{8, "services[0].probes[0].status", "applies to http probes only"}},
		{"follow_redirects on tcp", probeDoc("name: p", "kind: tcp", "target: example.com:443", "follow_redirects: true"), &want{8, "services[0].probes[0].follow_redirects", "applies to http probes only"}},
		{"headers on dns", probeDoc("name: p", "kind: dns", "target: example.com", "headers: {Accept: '*/*'}"), &want{8, "services[0].probes[0].headers", "applies to http and websocket probes only, this one is dns"}},
		{"min_answers on tcp", probeDoc("name: p", "kind: tcp", "target: example.com:443", "min_answers: 2"), &want{8, "services[0].probes[0].min_answers", "applies to dns probes only"}},
		{"status out of range", probeDoc("name: p", "kind: http", "target: https://example.com/", "status: [200, 99]"), &want{8, "services[0].probes[0].status[1]", "invalid HTTP status 99"}},
		{"status 600", probeDoc("name: p", "kind: http", "target: https://example.com/", "status:", "  - 600"), &want{9, "services[0].probes[0].status[0]", "invalid HTTP status 600"}},
		{"max_bytes negative", probeDoc("name: p", "kind: http", "target: https://example.com/", "max_bytes: -1"), &want{8, "services[0].probes[0].max_bytes", "must not be negative"}},
		{"record unknown", probeDoc("name: p", "kind: dns", "target: example.com", "record: MX"), &want{8, "services[0].probes[0].record", `unknown record type "MX"`}},
		{"record in lower case", probeDoc("name: p", "kind: dns", "target: example.com", "record: aaaa"), &want{8, "services[0].probes[0].record", "unknown record type"}},
		{"resolver without port", probeDoc("name: p", "kind: dns", "target: example.com", "resolver: 1.1.1.1"), &want{8, "services[0].probes[0].resolver", "want host:port"}},
		{"min_answers negative", probeDoc("name: p", "kind: dns", "target: example.com", "min_answers: -1"), &want{8, "services[0].probes[0].min_answers", "must not be negative"}},
		{"dns resolvers", probeDoc("name: p", "kind: dns", "target: example.com", "resolvers: [1.1.1.1:53, '[2606:4700:4700::1111]:53', dns.google:53]"), nil},
		{"resolvers entry without port", probeDoc("name: p", "kind: dns", "target: example.com", "resolvers: [1.1.1.1:53, 8.8.8.8]"), &want{8, "services[0].probes[0].resolvers[1]", `invalid resolver "8.8.8.8": want host:port`}},
		{"resolvers repeated", probeDoc("name: p", "kind: dns", "target: example.com", "resolvers:", "  - 1.1.1.1:53", "  - 1.1.1.1:53"), &want{10, "services[0].probes[0].resolvers[1]", `duplicate resolver "1.1.1.1:53"`}},
		{"resolver and resolvers", probeDoc("name: p", "kind: dns", "target: example.com", "resolver: 1.1.1.1:53", "resolvers: [8.8.8.8:53]"), &want{9, "services[0].probes[0].resolvers", "set resolver or resolvers, not both"}},
		{"resolvers on tcp", probeDoc("name: p", "kind: tcp", "target: example.com:53", "resolvers: [1.1.1.1:53]"), &want{8, "services[0].probes[0].resolvers", "applies to dns probes only, this one is tcp"}},
		{"authoritative", probeDoc("name: p", "kind: dns", "target: facebook.com", "authoritative: true"), nil},
		{"authoritative with resolvers", probeDoc("name: p", "kind: dns", "target: facebook.com", "authoritative: true", "resolvers: [1.1.1.1:53, 8.8.8.8:53]"), nil},
		{"authoritative on http", probeDoc("name: p", "kind: http", "target: https://facebook.com/", "authoritative: true"), &want{8, "services[0].probes[0].authoritative", "applies to dns probes only, this one is http"}},
		{"tls", probeDoc("name: p", "kind: tls", "target: edge-chat.facebook.com:443"), nil},
		{"tls with server name", probeDoc("name: p", "kind: tls", "target: '157.240.0.1:443'", "server_name: edge-chat.facebook.com"), nil},
		{"tls target a URL", probeDoc("name: p", "kind: tls", "target: https://edge-chat.facebook.com/"), &want{7, "services[0].probes[0].target", "want host:port"}},
		{"tls without port", probeDoc("name: p", "kind: tls", "target: edge-chat.facebook.com"), &want{7, "services[0].probes[0].target", "invalid tls target"}},
		{"tls server name invalid", probeDoc("name: p", "kind: tls", "target: x:443", "server_name: 'a b'"), &want{8, "services[0].probes[0].server_name", `invalid server name "a b"`}},
		{"server_name on tcp", probeDoc("name: p", "kind: tcp", "target: x:443", "server_name: x"), &want{8, "services[0].probes[0].server_name", "applies to tls probes only, this one is tcp"}},
		{"status on tls", probeDoc("name: p", "kind: tls", "target: x:443", "status: [200]"), &want{8, "services[0].probes[0].status", "applies to http probes only, this one is tls"}},
		{"websocket", probeDoc("name: p", "kind: websocket", "target: wss://web.whatsapp.com/ws/chat", "headers: {Origin: 'https://web.whatsapp.com'}"), nil},
		{"websocket plain", probeDoc("name: p", "kind: websocket", "target: ws://192.0.2.1:8080/"), nil},
		{"websocket target https", probeDoc("name: p", "kind: websocket", "target: https://web.whatsapp.com/ws/chat"), &want{7, "services[0].probes[0].target", "want a URL beginning with ws:// or wss://"}},
		{"websocket target without host", probeDoc("name: p", "kind: websocket", "target: 'wss:///ws/chat'"), &want{7, "services[0].probes[0].target", "no host"}},
		{"http target wss", probeDoc("name: p", "kind: http", "target: wss://web.whatsapp.com/ws/chat"), &want{7, "services[0].probes[0].target", "want a URL beginning with http:// or https://"}},
		{"status on websocket", probeDoc("name: p", "kind: websocket", "target: wss://x/", "status: [101]"), &want{8, "services[0].probes[0].status", "applies to http probes only, this one is websocket"}},
		// any-of targets
		{"tcp targets", probeDoc("name: p", "kind: tcp", "targets: [g.whatsapp.net:5222, 'g.whatsapp.net:443', '[2001:db8::1]:5222']"), nil},
		{"tls targets with a server name", probeDoc("name: p", "kind: tls", "targets: ['192.0.2.1:443', '192.0.2.2:443']", "server_name: edge-chat.facebook.com"), nil},
		{"target and targets", probeDoc("name: p", "kind: tcp", "target: x:1", "targets: [x:2]"), &want{8, "services[0].probes[0].targets", "set target or targets, not both"}},
		{"targets empty", probeDoc("name: p", "kind: tcp", "targets: []"), &want{5, "services[0].probes[0].target", "target is required"}},
		{"targets entry without port", probeDoc("name: p", "kind: tcp", "targets:", "  - x:1", "  - x"), &want{9, "services[0].probes[0].targets[1]", `invalid target "x": want host:port`}},
		{"targets entry a URL", probeDoc("name: p", "kind: tls", "targets: ['https://x/']"), &want{7, "services[0].probes[0].targets[0]", "not a URL"}},
		{"targets repeated", probeDoc("name: p", "kind: tcp", "targets: [x:1, y:1, x:1]"), &want{7, "services[0].probes[0].targets[2]", `duplicate target "x:1"`}},
		{"targets on http", probeDoc("name: p", "kind: http", "targets: ['x:443']"), &want{7, "services[0].probes[0].targets", "applies to tcp and tls probes only, this one is http"}},
		{"targets on dns", probeDoc("name: p", "kind: dns", "targets: ['x:53']"), &want{7, "services[0].probes[0].targets", "applies to tcp and tls probes only, this one is dns"}},

		// status ranges
		{"status range", probeDoc("name: p", "kind: http", "target: https://x/", "status: [200-499]"), nil},
		{"status codes and ranges", probeDoc("name: p", "kind: http", "target: https://x/", "status: [200, 301-303, '307', ' 400 - 404 ']"), nil},
		{"status range of one code", probeDoc("name: p", "kind: http", "target: https://x/", "status: [404-404]"), nil},
		{"status range below 100", probeDoc("name: p", "kind: http", "target: https://x/", "status: [200, 99-200]"), &want{8, "services[0].probes[0].status[1]", "invalid HTTP status range 99-200 (want codes within 100-599)"}},
		{"status range above 599", probeDoc("name: p", "kind: http", "target: https://x/", "status:", "  - 500-600"), &want{9, "services[0].probes[0].status[0]", "invalid HTTP status range 500-600"}},
		{"status range backwards", probeDoc("name: p", "kind: http", "target: https://x/", "status: [499-200]"), &want{8, "services[0].probes[0].status[0]", "invalid HTTP status range 499-200 (write the lower code first)"}},
		// Decoding errors in a flow list name the list, whose line it is.
		{"status class shorthand", probeDoc("name: p", "kind: http", "target: https://x/", "status: [2xx]"), &want{8, "services[0].probes[0].status", `invalid HTTP status "2xx" (want a code such as 200 or a range such as 200-499)`}},
		{"status open range", probeDoc("name: p", "kind: http", "target: https://x/", "status: [200-]"), &want{8, "services[0].probes[0].status", `invalid HTTP status "200-"`}},
		{"status not a scalar", probeDoc("name: p", "kind: http", "target: https://x/", "status: [[200, 299]]"), &want{8, "services[0].probes[0].status", "invalid HTTP status (want a code"}},
		{"status range on dns", probeDoc("name: p", "kind: dns", "target: x", "status: [200-299]"), &want{8, "services[0].probes[0].status", "applies to http probes only"}},
		{"json any value", probeDoc("name: p", "kind: http", "target: https://x/", "json: {error.code: '*'}"), nil},

		// control probe roles
		{"role on a service probe", probeDoc("name: p", "kind: tcp", "target: x:1", "role: route"), &want{8, "services[0].probes[0].role", "applies to control probes only"}},
		{"control roles", "control:\n" +
			"  - {name: a, kind: http, role: web, target: 'https://x/'}\n" +
			"  - {name: b, kind: dns, role: public_dns, target: x, resolver: '192.0.2.1:53'}\n" +
			"  - {name: c, kind: dns, role: public_dns, target: x, resolvers: ['192.0.2.1:53', '192.0.2.2:53']}\n" +
			"  - {name: d, kind: dns, role: system_dns, target: x}\n" +
			"  - {name: e, kind: tcp, role: route, target: 'x:443'}\n" +
			"  - {name: f, kind: tls, role: route, targets: ['x:443', 'y:443']}\n" +
			// Written before roles existed: a web probe, whatever its kind.
			"  - {name: g, kind: dns, target: x, resolver: '192.0.2.1:53'}\n", nil},
		{"role unknown", "control:\n  - name: a\n    kind: dns\n    target: x\n    role: dns\n", &want{5, "control[0].role", `unknown role "dns" (want web, public_dns, system_dns or route)`}},
		{"public_dns without a resolver", "control:\n  - name: a\n    kind: dns\n    role: public_dns\n    target: x\n", &want{4, "control[0].role", "public_dns wants a dns probe that names its resolver"}},
		{"public_dns on http", "control:\n  - name: a\n    kind: http\n    role: public_dns\n    target: https://x/\n", &want{4, "control[0].role", "public_dns wants a dns probe"}},
		{"public_dns authoritative", "control:\n  - {name: a, kind: dns, role: public_dns, target: x, resolver: '192.0.2.1:53', authoritative: true}\n", &want{2, "control[0].role", "not authoritative"}},
		{"system_dns with a resolver", "control:\n  - name: a\n    kind: dns\n    role: system_dns\n    target: x\n    resolver: 1.1.1.1:53\n", &want{4, "control[0].role", "system_dns wants a dns probe without resolver"}},
		{"system_dns authoritative", "control:\n  - name: a\n    kind: dns\n    role: system_dns\n    target: x\n    authoritative: true\n", &want{4, "control[0].role", "system_dns wants a dns probe without resolver, resolvers or authoritative"}},
		{"system_dns on tcp", "control:\n  - name: a\n    kind: tcp\n    role: system_dns\n    target: 'x:53'\n", &want{4, "control[0].role", "system_dns wants a dns probe"}},
		{"route on dns", "control:\n  - name: a\n    kind: dns\n    role: route\n    target: x\n", &want{4, "control[0].role", "route wants a probe that connects to a host"}},

		{"timeout negative", probeDoc("name: p", "kind: tcp", "target: x:1", "timeout: -1s"), &want{8, "services[0].probes[0].timeout", "must not be negative"}},
		{"timeout beyond the round", probeDoc("name: p", "kind: tcp", "target: x:1", "timeout: 26s"), &want{8, "services[0].probes[0].timeout", "exceeds thresholds.round_timeout (25s)"}},
		{"timeout equal to the round", probeDoc("name: p", "kind: tcp", "target: x:1", "timeout: 25s"), nil},
		{
			"control probe checked like the others",
			"control:\n  - name: a\n    kind: dns\n    target: example.com\n    record: MX\n",
			&want{5, "control[0].record", "unknown record type"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			errs := configErrors(t, err)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Parse = %v, want no error", err)
				}
				return
			}
			if diff := cmp.Diff([]place{{tc.want.line, tc.want.key}}, places(errs)); diff != "" {
				t.Fatalf("Parse = %v; places (-want +got):\n%s", err, diff)
			}
			if e := errs[0]; e.File != "t.yaml" || !strings.Contains(e.Msg, tc.want.msg) {
				t.Errorf("error = %q, want file t.yaml and a message containing %q", e, tc.want.msg)
			}
		})
	}
}

func TestValidationErrorsInFileOrder(t *testing.T) {
	doc := `services:
  - id: a
    name: A
    probes:
      - name: p
        kind: tcp
        target: example.com:443
  - id: b
    name: B
    probes:
      - name: p
        kind: ftp
        target: ftp://example.com/
thresholds:
  round_timeout: 4s
schedule: hourly
`
	_, err := Parse("bot.yaml", []byte(doc))
	got := strings.Split(err.Error(), "\n")
	want := []string{
		`bot.yaml:12: services[1].probes[0].kind: unknown probe kind "ftp" (want http, dns, tcp, tls or websocket)`,
		`bot.yaml:16: schedule: invalid cron spec "hourly": expected exactly 5 fields, found 1: [hourly]`,
		// The control probes come from the default, which has no line in
		// this file, but their timeouts no longer fit the shorter round.
		"bot.yaml: control[0].timeout: 5s exceeds thresholds.round_timeout (4s)",
		"bot.yaml: control[1].timeout: 5s exceeds thresholds.round_timeout (4s)",
		"bot.yaml: control[2].timeout: 5s exceeds thresholds.round_timeout (4s)",
		"bot.yaml: control[3].timeout: 5s exceeds thresholds.round_timeout (4s)",
		"bot.yaml: control[4].timeout: 5s exceeds thresholds.round_timeout (4s)",
		"bot.yaml: control[5].timeout: 5s exceeds thresholds.round_timeout (4s)",
		"bot.yaml: control[6].timeout: 5s exceeds thresholds.round_timeout (4s)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse errors (-want +got):\n%s", diff)
	}
}

func TestValidateWithoutFile(t *testing.T) {
	c := Default()
	c.Services[2].Aliases = append(c.Services[2].Aliases, "IG")
	c.Thresholds.UpAfter = 0
	got := places(configErrors(t, c.Validate()))
	want := []place{{0, "thresholds.up_after"}, {0, "services[2].aliases[1]"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Validate() places (-want +got):\n%s", diff)
	}
}
