-- wrk script: POST the benchmark's GraphQL request, and print the numbers as one JSON line.
-- Usage: wrk -s bench/nested_query.lua http://127.0.0.1:PORT/graphql -- BODY_FILE
-- BODY_FILE holds the JSON body (bench/run.py writes it from bench/queries.py).

local request_bytes

function init(args)
  local file = assert(io.open(args[1], "rb"), "usage: wrk ... -- BODY_FILE")
  local body = file:read("*a")
  file:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  request_bytes = wrk.format(nil, nil, nil, body)
end

function request()
  return request_bytes
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
