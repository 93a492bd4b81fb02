-- The X poll replay: every request is a different account's first ballot. Arguments after `--`:
--   tokens file, total ballots, yes option id, no option id, threads. Thread t of T sends the ballots
--   t+1, t+1+T, ...; ballot n says Yes when (n * 7919) mod 1000 < 679: 679 of every 1,000
--   consecutive ballots, the poll's 67.9%. A thread stops once its share is sent.
local thread_count = 0
function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  total, yes, no = tonumber(args[2]), args[3], args[4]
  tokens = {}
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  step = tonumber(args[5])
  n = tid + 1
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  if tid == 0 and not verified then
    -- wrk calls thread 0's request() once to check what it returns, and never sends that one.
    verified = true
    return wrk.format("POST", nil, nil, "{}")
  end
  if n > total then
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  local option = ((n * 7919) % 1000) < 679 and yes or no
  wrk.headers["Authorization"] = "Token " .. tokens[n]
  local body = '{"option": ' .. option .. '}'
  n = n + step
  return wrk.format("POST", nil, nil, body)
end

dofile(os.getenv("QUORUM_BENCH_DIR") .. "/read.lua")
