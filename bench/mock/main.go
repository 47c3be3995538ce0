// Command benchmock is the benchmark's upstream: an OpenAI-compatible mock that answers every chat
// completion with the same 1.4 KB text, cheaply enough that the gateway's cost dominates (the bench
// reports the mock's CPU per request beside the gateway's). It speaks just enough HTTP/1.1 for
// keep-alive clients: Content-Length or chunked request bodies, fixed JSON replies, and SSE
// streams of CHUNKS pieces DELAY_MS apart for requests with "stream":true.
//
// usage: benchmock PORT [CHUNKS] [DELAY_MS]
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

const sentence = "Cleargate forwards this completion from a mock upstream so that the benchmark measures the gateway, not a model. "

func completion() string {
	var b strings.Builder
	for b.Len() < 1400 {
		b.WriteString(sentence)
	}
	return b.String()[:1400]
}

var (
	chunks      = 64
	delay       time.Duration
	jsonReply   []byte
	modelsReply []byte
	text        = completion()
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchmock PORT [CHUNKS] [DELAY_MS]")
		os.Exit(2)
	}
	if len(os.Args) > 2 {
		chunks, _ = strconv.Atoi(os.Args[2])
	}
	if len(os.Args) > 3 {
		ms, _ := strconv.Atoi(os.Args[3])
		delay = time.Duration(ms) * time.Millisecond
	}
	jsonReply = response("application/json", `{"id":"mock-1","object":"chat.completion","created":0,"model":"mock","choices":[{"index":0,"message":{"role":"assistant","content":"`+
		text+`"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":`+strconv.Itoa(chunks)+`,"total_tokens":`+strconv.Itoa(12+chunks)+`}}`)
	modelsReply = response("application/json", `{"object":"list","data":[{"id":"mock","object":"model","created":0,"owned_by":"bench"}]}`)
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("benchmock listening on", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go serve(c)
	}
}

func response(contentType, body string) []byte {
	return []byte("HTTP/1.1 200 OK\r\ncontent-type: " + contentType + "\r\ncontent-length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// serve answers requests on one connection until the client closes it.
func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 16<<10)
	w := bufio.NewWriterSize(c, 16<<10)
	var body []byte
	for {
		method, path, length, chunked, closeAfter, err := readHead(r)
		if err != nil {
			return
		}
		body = body[:0]
		if chunked {
			if body, err = readChunked(r, body); err != nil {
				return
			}
		} else if length > 0 {
			if cap(body) < length {
				body = make([]byte, length)
			}
			body = body[:length]
			if _, err = io.ReadFull(r, body); err != nil {
				return
			}
		}
		switch {
		case method == "POST" && strings.HasPrefix(path, "/v1/chat/completions"):
			if isStream(body) {
				if err = stream(w); err != nil {
					return
				}
			} else {
				w.Write(jsonReply)
			}
		case strings.HasPrefix(path, "/v1/models"):
			w.Write(modelsReply)
		default:
			w.WriteString("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
		}
		// Write only when no further request is already buffered: pipelined requests share a flush.
		if r.Buffered() == 0 {
			if w.Flush() != nil {
				return
			}
		}
		if closeAfter {
			w.Flush()
			return
		}
	}
}

func readHead(r *bufio.Reader) (method, path string, length int, chunked, closeAfter bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return
	}
	fields := strings.Fields(string(line))
	if len(fields) < 2 {
		err = io.ErrUnexpectedEOF
		return
	}
	method, path = fields[0], fields[1]
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return
		}
		if len(line) <= 2 {
			return
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name := string(bytes.ToLower(bytes.TrimSpace(line[:colon])))
		value := string(bytes.ToLower(bytes.TrimSpace(line[colon+1:])))
		switch name {
		case "content-length":
			length, _ = strconv.Atoi(value)
		case "transfer-encoding":
			chunked = strings.Contains(value, "chunked")
		case "connection":
			closeAfter = value == "close"
		}
	}
}

func readChunked(r *bufio.Reader, body []byte) ([]byte, error) {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return body, err
		}
		size, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(line, ";", 2)[0]), 16, 64)
		if err != nil {
			return body, err
		}
		if size == 0 {
			for { // trailers end with an empty line
				t, err := r.ReadString('\n')
				if err != nil || len(t) <= 2 {
					return body, err
				}
			}
		}
		chunk := make([]byte, size+2)
		if _, err = io.ReadFull(r, chunk); err != nil {
			return body, err
		}
		body = append(body, chunk[:size]...)
	}
}

func isStream(body []byte) bool {
	i := bytes.Index(body, []byte(`"stream"`))
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(body[i+len(`"stream"`):], " \t\r\n:")
	return bytes.HasPrefix(rest, []byte("true"))
}

// stream sends the completion as CHUNKS server-sent events DELAY apart, then usage and [DONE].
func stream(w *bufio.Writer) error {
	w.WriteString("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
	n := chunks
	if n < 1 {
		n = 1
	}
	for i := 0; i < n; i++ {
		piece := text[i*len(text)/n : (i+1)*len(text)/n]
		event(w, `{"id":"mock-1","object":"chat.completion.chunk","created":0,"model":"mock","choices":[{"index":0,"delta":{"content":"`+piece+`"},"logprobs":null,"finish_reason":null}]}`)
		if err := w.Flush(); err != nil {
			return err
		}
		if delay > 0 {
			time.Sleep(delay)
		}
	}
	event(w, `{"id":"mock-1","object":"chat.completion.chunk","created":0,"model":"mock","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`)
	event(w, `{"id":"mock-1","object":"chat.completion.chunk","created":0,"model":"mock","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":`+strconv.Itoa(n)+`,"total_tokens":`+strconv.Itoa(12+n)+`}}`)
	event(w, "[DONE]")
	w.WriteString("0\r\n\r\n")
	return w.Flush()
}

func event(w *bufio.Writer, data string) {
	payload := "data: " + data + "\n\n"
	w.WriteString(strconv.FormatInt(int64(len(payload)), 16) + "\r\n" + payload + "\r\n")
}
