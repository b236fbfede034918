-- wrk -s callback.lua URL -- JOBS_FILE [DELAY_MS]: POST worker callbacks round-robin over the jobs in JOBS_FILE
-- (one "token<TAB>job_id" per line), each connection waiting DELAY_MS between its requests when given (paced
-- workers rather than a flood), then print the summary as one JSON line for bench/run.py.

local jobs = {}
local k = 0
local pause = 0

function init(args)
  for line in io.lines(args[1]) do
    local token, job_id = line:match("^([^\t]+)\t([^\t]+)$")
    if token then jobs[#jobs + 1] = { token, job_id } end
  end
  pause = tonumber(args[2] or "0")
  if pause > 0 then
    -- Defined only when pacing: wrk looks for it after init, and a zero delay would still cost a timer per request.
    delay = function() return pause end
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
