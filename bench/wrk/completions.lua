-- POST /v1/chat/completions exactly as scenarios/llm-proxy.yml sends it (service key, X-Tenant-ID,
-- the five fields the proxy's strict decoder accepts), for wrk as the reference load generator.
-- Secrets come from the environment, never from the command line (visible in `ps`):
--   WRK_SERVICE_API_KEY, WRK_TENANT_ID, WRK_DELAY_MS (think time after each answer, default 0),
--   WRK_CONNECTIONS and WRK_RAMP_MS (first requests spread over the ramp, as Artillery's users arrive).
-- done() prints one `BENCH_JSON {...}` line that bench/lib/wrk.ts parses (latency in microseconds).

local body = '{"model":"openai/gpt-4.1-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}],'
  .. '"temperature":0.7,"max_tokens":64,"stream":false}'

wrk.method = 'POST'
wrk.body = body
wrk.headers['Content-Type'] = 'application/json'
wrk.headers['Accept'] = 'application/json'
wrk.headers['X-Service-Api-Key'] = os.getenv('WRK_SERVICE_API_KEY') or ''
wrk.headers['X-Tenant-ID'] = os.getenv('WRK_TENANT_ID') or ''

local report = dofile((os.getenv('WRK_LUA_DIR') or '.') .. '/report.lua')
if report.paced then
  delay = report.delay
end
done = report.done
