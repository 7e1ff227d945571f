-- POST /api/chat of a logged-in web user as scenarios/chat-sessions.yml sends it (session cookie,
-- Origin of the web app, a short message), for wrk as the reference load generator.
-- The session cookie comes from the environment, never from the command line (visible in `ps`):
--   WRK_COOKIE, WRK_ORIGIN, WRK_DELAY_MS (think time after each answer, default 0),
--   WRK_CONNECTIONS and WRK_RAMP_MS (first requests spread over the ramp, as Artillery's users arrive).
-- done() prints one `BENCH_JSON {...}` line that bench/lib/wrk.ts parses (latency in microseconds).

wrk.method = 'POST'
wrk.body = '{"message":"Hi! What can you do?"}'
wrk.headers['Content-Type'] = 'application/json'
wrk.headers['Accept'] = 'application/json'
wrk.headers['Cookie'] = os.getenv('WRK_COOKIE') or ''
wrk.headers['Origin'] = os.getenv('WRK_ORIGIN') or ''

local report = dofile((os.getenv('WRK_LUA_DIR') or '.') .. '/report.lua')
if report.paced then
  delay = report.delay
end
done = report.done
