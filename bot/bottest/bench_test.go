package bottest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkSendMessage measures the fake's own throughput, which must stay
// far above the bot's budget of 5,000 messages/s so that benchmarks of the
// bot measure the bot.
func BenchmarkSendMessage(b *testing.B) {
	s := NewServer(testToken)
	defer s.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	var chat atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"chat_id":%d,"text":"<b>WhatsApp</b> is down","parse_mode":"HTML"}`, chat.Add(1))
			resp, err := client.Post(s.URL+"/bot"+s.Token+"/sendMessage", "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body) // lets the connection be reused
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
