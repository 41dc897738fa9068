package bottest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/outagebot/outagebot/bot/bottest"
)

// botCall is what the bot under test would do: POST JSON to the Bot API.
func botCall(srv *bottest.Server, method string, params, result any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return err
	}
	resp, err := http.Post(srv.URL+"/bot"+srv.Token+"/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var answer struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		Description string          `json:"description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return err
	}
	if !answer.OK {
		return fmt.Errorf("%s: %s", method, answer.Description)
	}
	return json.Unmarshal(answer.Result, result)
}

func Example() {
	srv := bottest.NewServer("123:TEST")
	defer srv.Close()

	// A user writes to the bot.
	srv.SendText(bottest.Chat{ID: 42, Type: "private"}, bottest.User{ID: 42, FirstName: "Ann"}, "/status")

	// The bot polls and answers; in a real test this is the code under test.
	var updates []struct {
		UpdateID int `json:"update_id"`
		Message  struct {
			Text string       `json:"text"`
			Chat bottest.Chat `json:"chat"`
		} `json:"message"`
	}
	if err := botCall(srv, "getUpdates", map[string]any{"timeout": 0}, &updates); err != nil {
		log.Fatal(err)
	}
	for _, u := range updates {
		reply := map[string]any{"chat_id": u.Message.Chat.ID, "text": "<b>WhatsApp</b>: up", "parse_mode": "HTML"}
		var sent json.RawMessage
		if err := botCall(srv, "sendMessage", reply, &sent); err != nil {
			log.Fatal(err)
		}
	}

	// The test checks what reached the chat.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := srv.WaitMessages(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updates[0].Message.Text)
	fmt.Println(msgs[0].ChatID, msgs[0].Plain())
	// Output:
	// /status
	// 42 WhatsApp: up
}

func ExampleServer_Fail() {
	srv := bottest.NewServer("123:TEST")
	defer srv.Close()
	srv.Fail("sendMessage", bottest.Fault{Code: 429, RetryAfter: 3})

	var sent json.RawMessage
	fmt.Println(botCall(srv, "sendMessage", map[string]any{"chat_id": 1, "text": "hi"}, &sent))
	fmt.Println(botCall(srv, "sendMessage", map[string]any{"chat_id": 1, "text": "hi"}, &sent))
	fmt.Println(srv.TooManyRequests())
	// Output:
	// sendMessage: Too Many Requests: retry after 3
	// <nil>
	// 1
}
