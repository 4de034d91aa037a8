-- wrk script: POST {"mention_id": ID, "text": TEXT} to PATH, one fresh id per request.
-- args: PATH TOKEN IDS_FILE TEXT THREADS. Ids are dealt to threads round-robin; a thread
-- that runs out starts over (counted as "exhausted": the figure is then not valid).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  path, token, ids_file, text, nthreads = args[1], args[2], args[3], args[4], tonumber(args[5])
  ids = {}
  local i = 0
  for line in io.lines(ids_file) do
    if i % nthreads == tid then table.insert(ids, line) end
    i = i + 1
  end
  idx, bad, exhausted = 0, 0, 0
  headers = {["Content-Type"] = "application/json"}
  if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
end

function request()
  idx = idx + 1
  if idx > #ids then exhausted = exhausted + 1; idx = 1 end
  return wrk.format("POST", path, headers,
    '{"mention_id":' .. ids[idx] .. ',"text":"' .. text .. '"}')
end

function response(status, headers, body)
  if status ~= 201 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local b, e = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bad"); e = e + t:get("exhausted") end
  local errs = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"bad":%d,"exhausted":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, b, e,
    errs.connect + errs.read + errs.write + errs.timeout))
end
