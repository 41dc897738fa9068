package bot

import (
	"bytes"
	"io"
)

// RedactWriter returns a writer that replaces every occurrence of secret
// with "[REDACTED]" before writing to w. Give it to the log handler: the
// token stays out of URLs by construction (see TokenPlaceholder), and this
// catches whatever a dependency might still print. slog handlers write one
// whole record per Write, so a secret is never split across calls.
func RedactWriter(w io.Writer, secret string) io.Writer {
	if secret == "" {
		return w
	}
	return redactWriter{w: w, secret: []byte(secret)}
}

type redactWriter struct {
	w      io.Writer
	secret []byte
}

func (r redactWriter) Write(p []byte) (int, error) {
	if !bytes.Contains(p, r.secret) {
		return r.w.Write(p)
	}
	if _, err := r.w.Write(bytes.ReplaceAll(p, r.secret, []byte("[REDACTED]"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
