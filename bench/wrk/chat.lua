-- wrk script for bin/cleargate bench: POSTs the benchmark's chat completion request (a 50-character
-- prompt; the mock answers 1.4 KB) over keep-alive connections and prints one JSON line at the end.
-- Extra headers come from wrk's -H option.
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"model":"mock","max_tokens":256,"stream":false,"messages":[{"role":"user","content":"Summarise the quarterly report in three sentences."}]}'

local non2xx = 0

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  -- wrk calls response() in its worker threads; the count here is the main thread's, so non-2xx
  -- answers are read from summary.errors.status instead.
  io.write(string.format(
    '{"client":"wrk","requests":%d,"seconds":%.3f,"rps":%.1f,"errors":%d,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
end
