package bottest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	tele "gopkg.in/telebot.v3"
)

// pngOf encodes a blank image of the given size.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.Black)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTelebotSendPhoto(t *testing.T) {
	s := newServer(t)
	b := newTeleBot(t, s)
	photo := pngOf(t, 64, 48)
	caption := "📈 <b>WhatsApp</b> uptime 99.5 %"
	msg, err := b.Send(&tele.Chat{ID: 42}, &tele.Photo{File: tele.FromReader(bytes.NewReader(photo)), Caption: caption}, tele.ModeHTML)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Photo == nil || msg.Photo.Width != 64 || msg.Photo.Height != 48 || msg.Photo.FileID == "" ||
		msg.Caption != "📈 WhatsApp uptime 99.5 %" || msg.Text != "" {
		t.Errorf("Send returned %+v with photo %+v", msg, msg.Photo)
	}
	want := []Message{{ID: 1, ChatID: 42, Text: caption, Photo: photo, ParseMode: "HTML"}}
	if diff := cmp.Diff(want, s.Messages(), cmpopts.IgnoreFields(Message{}, "At")); diff != "" {
		t.Errorf("Messages (-want +got):\n%s", diff)
	}
	if got := s.Messages()[0].Plain(); got != "📈 WhatsApp uptime 99.5 %" {
		t.Errorf("Plain() of the caption = %q", got)
	}
	call := s.Calls("sendPhoto")[0]
	if call.Param("chat_id") != "42" || call.Param("caption") != caption || !bytes.Equal(call.Files["photo"], photo) {
		t.Errorf("recorded call %+v, want chat_id 42, the caption and the photo's bytes", call.Params)
	}
}

func TestSendPhotoRefusals(t *testing.T) {
	tests := []struct {
		name  string
		photo tele.File
		caption,
		want string // in the error
	}{
		// telebot's name for Telegram's IMAGE_PROCESS_FAILED.
		{"not an image", tele.FromReader(strings.NewReader("GIF? no")), "", "Image process failed"},
		{"too long and thin", tele.FromReader(bytes.NewReader(pngOf(t, 2100, 100))), "", "PHOTO_INVALID_DIMENSIONS"},
		{"a file id the fake cannot resolve", tele.File{FileID: "AgACAgIAAx"}, "", "wrong file identifier"},
		{"broken HTML caption", tele.FromReader(bytes.NewReader(pngOf(t, 10, 10))), "<b>down", "can't parse entities"},
		{"caption too long", tele.FromReader(bytes.NewReader(pngOf(t, 10, 10))), strings.Repeat("x", maxCaptionLength+1), "caption is too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			b := newTeleBot(t, s)
			_, err := b.Send(&tele.Chat{ID: 42}, &tele.Photo{File: tc.photo, Caption: tc.caption}, tele.ModeHTML)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("sendPhoto error = %v, want one saying %q", err, tc.want)
			}
			if msgs := s.Messages(); len(msgs) != 0 {
				t.Errorf("a refused photo was recorded: %+v", msgs)
			}
		})
	}
}
