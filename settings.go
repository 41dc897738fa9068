package main

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale"
)

// channelPattern is what Telegram takes as a channel's chat_id: its public
// @username (5 to 32 letters, digits and underscores, from a letter) or its
// numeric id, which for channels begins with -100.
var channelPattern = regexp.MustCompile(`^(@[A-Za-z][A-Za-z0-9_]{3,31}|-100[0-9]+)$`)

// checkChannel validates OUTAGEBOT_CHANNEL; empty means no channel.
func checkChannel(channel string) error {
	if channel == "" || channelPattern.MatchString(channel) {
		return nil
	}
	return fmt.Errorf("OUTAGEBOT_CHANNEL / -channel: %q is neither a channel's @username nor its -100… id", channel)
}

// checkChannelLang validates OUTAGEBOT_CHANNEL_LANG: one of the languages
// of locale/catalog, as its file is named.
func checkChannelLang(lang string) error {
	texts, err := locale.New(checks.NewCatalog(nil), time.UTC)
	if err != nil {
		return fmt.Errorf("load the texts: %w", err)
	}
	tags := texts.Tags()
	if slices.ContainsFunc(tags, func(tag string) bool { return strings.EqualFold(tag, lang) }) {
		return nil
	}
	return fmt.Errorf("OUTAGEBOT_CHANNEL_LANG / -channel-lang: %q is not a language outagebot speaks (want one of %s)", lang, strings.Join(tags, ", "))
}

// checkAPIURL validates TELEGRAM_API_URL.
func checkAPIURL(raw string) error {
	if err := checkBaseURL(raw); err != nil {
		return fmt.Errorf("TELEGRAM_API_URL / -api-url: %w (the default is %s)", err, defaultAPIURL)
	}
	return nil
}

// checkFrom validates the -from of backup and healthcheck; empty means
// OUTAGEBOT_LISTEN's address.
func checkFrom(raw string) error {
	if raw == "" {
		return nil
	}
	if err := checkBaseURL(raw); err != nil {
		return fmt.Errorf("-from: %w", err)
	}
	return nil
}

// checkBaseURL accepts an http:// or https:// URL with a host, under which
// paths are added.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an http:// or https:// URL", raw)
	}
	return nil
}

// checkListen validates OUTAGEBOT_LISTEN, what net.Listen takes for TCP:
// an optional host and a numeric port, 0 picking a free one. Empty means
// no operator endpoints.
func checkListen(addr string) error {
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || strings.ContainsAny(host, " /") {
		return fmt.Errorf("OUTAGEBOT_LISTEN / -listen: %q is not host:port with a port from 0 to 65535 (e.g. 127.0.0.1:9090, or :9090 for every interface)", addr)
	}
	return nil
}
