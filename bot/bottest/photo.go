package bottest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	// Photos are checked as Telegram checks them: by decoding them.
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"unicode/utf8"
)

// Telegram's limits for a photo sent with sendPhoto.
const (
	maxCaptionLength = 1024     // characters after entity parsing
	maxPhotoBytes    = 10 << 20 // bytes
	maxPhotoSides    = 10000    // width plus height, in pixels
	maxPhotoRatio    = 20       // longer side over shorter side
)

// photoSize is a Bot API PhotoSize.
type photoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size"`
}

// sendPhoto implements the Bot API method of the same name for photos
// uploaded with multipart/form-data, which is how a bot sends an image it
// made. A photo given as a file id or URL is refused: the fake has nothing
// to resolve it against.
func (s *Server) sendPhoto(q request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chatID, err := s.chatID(q)
	if err != nil {
		return nil, err
	}
	data, ok := q.files["photo"]
	if !ok {
		if q.text("photo") != "" {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
		return nil, badRequest("there is no photo in the request")
	}
	size, err := checkPhoto(data)
	if err != nil {
		return nil, err
	}
	caption, parseMode := q.text("caption"), q.text("parse_mode")
	var plain string
	if caption != "" {
		if plain, err = render(caption, parseMode); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(plain) > maxCaptionLength {
			return nil, badRequest("message caption is too long")
		}
	}
	markup, err := q.object("reply_markup")
	if err != nil {
		return nil, err
	}
	return s.deliver(q, storedMessage{
		chatID: chatID, fromBot: true,
		text: caption, parseMode: parseMode, plain: plain, markup: markup, photo: &size,
	}, bytes.Clone(data))
}

// checkPhoto decodes a photo's header and refuses what Telegram refuses.
func checkPhoto(data []byte) (photoSize, error) {
	if len(data) > maxPhotoBytes {
		return photoSize{}, &apiError{code: http.StatusRequestEntityTooLarge, description: "Request Entity Too Large"}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return photoSize{}, badRequest("IMAGE_PROCESS_FAILED")
	}
	long, short := max(cfg.Width, cfg.Height), min(cfg.Width, cfg.Height)
	if short < 1 || cfg.Width+cfg.Height > maxPhotoSides || long > maxPhotoRatio*short {
		return photoSize{}, badRequest("PHOTO_INVALID_DIMENSIONS")
	}
	sum := sha256.Sum256(data)
	id := hex.EncodeToString(sum[:8])
	return photoSize{FileID: "photo-" + id, FileUniqueID: id, Width: cfg.Width, Height: cfg.Height, FileSize: len(data)}, nil
}
