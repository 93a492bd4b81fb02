-- Each request casts a first ballot for a different voter. Arguments after `--`:
--   mode ("api" or "bare"), first index, per-thread stride, tokens file (api) or poll/option path (bare)
local thread_count = 0
function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  mode, first, stride = args[1], tonumber(args[2]), tonumber(args[3])
  counter = 0
  wrk.method = "POST"
  if mode == "api" then
    tokens = {}
    for line in io.lines(args[4]) do tokens[#tokens + 1] = line end
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = args[5]
  end
end

function request()
  local n = first + tid * stride + counter
  counter = counter + 1
  if mode == "api" then
    wrk.headers["Authorization"] = "Token " .. tokens[n]
  else
    wrk.headers["X-Voter"] = tostring(n)
  end
  return wrk.format()
end

-- The same one-line summary as the read runs, which run.py parses.
dofile(os.getenv("QUORUM_BENCH_DIR") .. "/read.lua")
