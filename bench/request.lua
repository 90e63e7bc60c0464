-- wrk script for the ringlet benchmark: one fixed request, set from the environment by bench/run.py.
--   BENCH_METHOD  GET or POST
--   BENCH_TOKEN   OAuth access token sent as "Authorization: Bearer ..." (may be empty)
--   BENCH_BODY    request body (POST only), sent as application/json
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local token = os.getenv("BENCH_TOKEN") or ""
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.headers["Accept"] = "application/json"
local body = os.getenv("BENCH_BODY") or ""
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
