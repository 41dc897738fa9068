package bottest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
)

// request holds the parameters of one Bot API call, whatever encoding the
// client chose.
type request struct {
	raw    map[string]json.RawMessage // as received, strings as JSON strings
	params map[string]any             // decoded, numbers as json.Number
	files  map[string][]byte          // multipart uploads by field name
}

// parseRequest reads the parameters from the query string and from the
// body, which is JSON (an object, or "null" for parameterless methods), a
// URL-encoded form, or a multipart form whose files are uploads.
func parseRequest(r *http.Request) (request, error) {
	req := request{raw: make(map[string]json.RawMessage), params: make(map[string]any)}
	for k, vs := range r.URL.Query() {
		req.setString(k, vs[len(vs)-1])
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		return req, req.readMultipart(r)
	}
	if mediaType == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err != nil {
			return req, fmt.Errorf("read form: %w", err)
		}
		for k, vs := range r.PostForm {
			req.setString(k, vs[len(vs)-1])
		}
		return req, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return req, fmt.Errorf("read body: %w", err)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		return req, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return req, fmt.Errorf("decode JSON body: %w", err)
	}
	for k, raw := range fields {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return req, fmt.Errorf("decode parameter %q: %w", k, err)
		}
		req.raw[k] = raw
		req.params[k] = v
	}
	return req, nil
}

// maxUpload is the most a multipart request may carry: Telegram takes
// photos of up to 10 MB and other files of up to 50 MB.
const maxUpload = 50 << 20

// readMultipart reads a multipart form: fields as string parameters, files
// into q.files. A part is a file when its Content-Disposition names a file,
// even an empty name, as telebot sends an upload from a reader; Go's
// ParseMultipartForm would take that for a field.
func (q *request) readMultipart(r *http.Request) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return fmt.Errorf("read multipart form: %w", err)
	}
	q.files = make(map[string][]byte)
	budget := int64(maxUpload)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read multipart form: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(part, budget+1))
		if err != nil {
			return fmt.Errorf("read multipart field %q: %w", part.FormName(), err)
		}
		if budget -= int64(len(data)); budget < 0 {
			return fmt.Errorf("multipart form larger than %d bytes", maxUpload)
		}
		_, disposition, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if _, isFile := disposition["filename"]; isFile {
			q.files[part.FormName()] = data
			continue
		}
		q.setString(part.FormName(), string(data))
	}
}

func (q request) setString(k, v string) {
	q.raw[k], _ = json.Marshal(v) // marshalling a string cannot fail
	q.params[k] = v
}

// text returns a scalar parameter as text: strings as they are, numbers and
// booleans as their literals; "" when absent.
func (q request) text(key string) string {
	return paramText(q.params[key])
}

// integer returns an integer parameter sent as a number or a numeric string.
func (q request) integer(key string) (n int64, ok bool, err error) {
	v := q.text(key)
	if v == "" {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, badRequest(fmt.Sprintf("invalid %s specified", key))
	}
	return n, true, nil
}

// flag returns a boolean parameter sent as a boolean or as "true".
func (q request) flag(key string) bool {
	b, _ := strconv.ParseBool(q.text(key))
	return b
}

// boolean returns a boolean parameter sent as a boolean or as a string
// ("true", "false", "1", ...); false when absent.
func (q request) boolean(key string) (bool, error) {
	switch v := q.params[key].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, badRequest(fmt.Sprintf("invalid %s specified", key))
}

// object returns a parameter holding JSON (an object or an array), sent
// either as JSON or as a string containing JSON, compacted; nil when absent.
func (q request) object(key string) (json.RawMessage, error) {
	raw := bytes.TrimSpace(q.raw[key])
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest(fmt.Sprintf("can't parse %s JSON object", key))
		}
		raw = []byte(s)
	}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, badRequest(fmt.Sprintf("can't parse %s JSON object", key))
	}
	return buf.Bytes(), nil
}

// paramText renders a decoded parameter value as text.
func paramText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	default:
		b, _ := json.Marshal(v) // values decoded from JSON always marshal
		return string(b)
	}
}

// apiError is an error answer of the Bot API.
type apiError struct {
	code        int
	description string
	retryAfter  int
	migrateTo   int64
}

func (e *apiError) Error() string { return e.description }

func badRequest(description string) *apiError {
	return &apiError{code: http.StatusBadRequest, description: "Bad Request: " + description}
}

func forbidden(description string) *apiError {
	return &apiError{code: http.StatusForbidden, description: "Forbidden: " + description}
}

type okResponse struct {
	OK     bool `json:"ok"`
	Result any  `json:"result"`
}

type errorResponse struct {
	OK          bool                `json:"ok"`
	ErrorCode   int                 `json:"error_code"`
	Description string              `json:"description"`
	Parameters  *responseParameters `json:"parameters,omitempty"`
}

type responseParameters struct {
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
	RetryAfter      int   `json:"retry_after,omitempty"`
}

// reply writes the answer: result when e is nil, else the error envelope
// with e's code as the HTTP status.
func (s *Server) reply(w http.ResponseWriter, result any, e *apiError) {
	if e == nil {
		writeJSON(w, http.StatusOK, okResponse{OK: true, Result: result})
		return
	}
	if e.code == http.StatusTooManyRequests {
		s.mu.Lock()
		s.tooMany++
		s.mu.Unlock()
	}
	body := errorResponse{ErrorCode: e.code, Description: e.description}
	if e.retryAfter > 0 || e.migrateTo != 0 {
		body.Parameters = &responseParameters{MigrateToChatID: e.migrateTo, RetryAfter: e.retryAfter}
	}
	writeJSON(w, e.code, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Telegram does not escape <, > and & in its answers.
	if err := enc.Encode(v); err != nil {
		// Every answer is built from JSON-safe values; failing here is a bug.
		panic(fmt.Sprintf("bottest: encode answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
