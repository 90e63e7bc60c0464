-- wrk script of bench/processes.py: the send of bench/request.lua, except that every request's
-- text is unique ("<BENCH_TEXT> <BENCH_PREFIX><thread>-<n>"), so that the database can show each
-- send stored exactly once; done() prints how many requests were sent ("SENT n"), answered or not.
--   BENCH_TOKEN, BENCH_FROM, BENCH_TO, BENCH_TEXT, BENCH_PREFIX from the environment.
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

sent = 0
local prefix = os.getenv("BENCH_PREFIX") or ""
local text = os.getenv("BENCH_TEXT") or "Hello from the benchmark"
local head = '{"from":{"phoneNumber":"' .. (os.getenv("BENCH_FROM") or "") ..
  '"},"to":[{"phoneNumber":"' .. (os.getenv("BENCH_TO") or "") .. '"}],"text":"'
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
wrk.headers["Accept"] = "application/json"
wrk.headers["Content-Type"] = "application/json"

function request()
  sent = sent + 1
  local body = head .. text .. " " .. prefix .. id .. "-" .. sent .. '"}'
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("sent")
  end
  io.write(string.format("SENT %d\n", total))
end
