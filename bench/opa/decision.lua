-- wrk script for bench/opa/run.sh: POSTs the bench tenant's decision input (the document the
-- gateway's policy stage sends for the bench's chat request) to OPA's Data API; prints one JSON line.
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"input":{"tenant":"dev","subject":{"id":"key-1","roles":["gateway-user"],"auth_method":"api_key"},'
  .. '"request":{"endpoint":"/v1/chat/completions","model":"mock","stream":false,"max_tokens":256,'
  .. '"estimated_prompt_tokens":17},"context":{"time":"2026-12-01T00:00:00Z"}}}'

function done(summary, latency, requests)
  io.write(string.format('{"requests":%d,"rps":%.1f,"errors":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n', summary.requests,
    summary.requests / (summary.duration / 1e6), summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
