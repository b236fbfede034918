-- wrk -s callback.lua URL -- JOBS_FILE: POST worker callbacks round-robin over the jobs in JOBS_FILE
-- (one "token<TAB>job_id" per line), then print the summary as one JSON line for bench/run.py.

local jobs = {}
local k = 0

function init(args)
  for line in io.lines(args[1]) do
    local token, job_id = line:match("^([^\t]+)\t([^\t]+)$")
    if token then jobs[#jobs + 1] = { token, job_id } end
  end
end

function request()
  k = k + 1
  local job = jobs[(k % #jobs) + 1]
  local body = string.format('{"job_id":"%s","progress":%.2f,"message":"step %d"}', job[2], (k % 10000) / 100, k)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["X-Callback-Token"] = job[1] }, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    '\nBENCH {"requests":%d,"duration_us":%d,"non_2xx":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
