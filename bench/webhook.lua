-- wrk script: replays pre-signed EventSub deliveries, one per request, each once.
-- Each line of the file is: message id \t timestamp \t signature \t body
local requests = {}
local counter = 0
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  local path = args[1]
  local threads = tonumber(args[2])
  local thread_index = tid
  local i = 0
  for line in io.lines(path) do
    if i % threads == thread_index then
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
  if counter > #requests then
    -- every delivery was sent once: repeat the last one (a redelivery, counted once)
    return requests[#requests]
  end
  return requests[counter]
end
