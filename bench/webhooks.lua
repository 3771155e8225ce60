-- wrk script: replays pre-signed Twitch EventSub deliveries (bench/_common.py writes them:
-- one a line, "message id \t timestamp \t signature \t body"), one per request, each once.
-- Signing in Lua would make wrk the bottleneck, so the pool is signed beforehand.
-- Usage: wrk -t1 -c64 -d10s -s bench/webhooks.lua http://host:port -- pool.tsv THREADS
-- At the end it prints one line "BENCH {json}" with the counts and latency percentiles.
-- When the pool runs out it starts again from the top (redeliveries: counted once, but
-- reported as "wrapped" so the exactly-once check knows).

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local requests = {}
counter = 0
wrapped = 0

function init(args)
  local path = args[1]
  local nthreads = tonumber(args[2] or "1")
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == tid then
      local id, ts, sig, body = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)")
      requests[#requests + 1] = wrk.format("POST", "/webhooks/twitch", {
        ["Content-Type"] = "application/json",
        ["Twitch-Eventsub-Message-Id"] = id,
        ["Twitch-Eventsub-Message-Retry"] = "0",
        ["Twitch-Eventsub-Message-Type"] = "notification",
        ["Twitch-Eventsub-Message-Timestamp"] = ts,
        ["Twitch-Eventsub-Message-Signature"] = sig,
        ["Twitch-Eventsub-Subscription-Type"] = "channel.chat.message",
        ["Twitch-Eventsub-Subscription-Version"] = "1",
      }, body)
    end
    i = i + 1
  end
end

function request()
  counter = counter + 1
  local n = #requests
  if counter > n then
    wrapped = wrapped + 1
    return requests[((counter - 1) % n) + 1]
  end
  return requests[counter]
end

function done(summary, latency, _requests)
  local issued, again = 0, 0
  for _, t in ipairs(threads) do
    issued = issued + (t:get("counter") or 0)
    again = again + (t:get("wrapped") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"issued": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, issued - again, again))
end
