-- wrk script for bin/cleargate bench soak: the benchmark's request (bench/wrk/chat.lua), each
-- connection pausing SOAK_DELAY_MS (default 50) between requests, so the rate stays moderate and
-- under the dev tenant's 6,000 requests a minute.
dofile(os.getenv("CLEARGATE_WRK_DIR") .. "/chat.lua")

local pause = tonumber(os.getenv("SOAK_DELAY_MS") or "50")

function delay()
  return pause
end
