-- One wrk script for every benchmark case, driven by environment variables (bench/run.sh sets
-- them; the same script runs against vouch and against the baseline):
--
--   BENCH_CASE     create | create_idem | retrieve | update | list | list_cref | cancel
--   BENCH_KEY      secret key, sent as "Authorization: Bearer KEY"
--   BENCH_IDS      file of session ids, one a line (retrieve, update, cancel)
--   BENCH_THREADS  wrk's -t (each thread walks its own stride of the ids)
--   BENCH_POOL     client_reference_id pool size: values user_0 .. user_<POOL-1> (list_cref)
--   BENCH_RUN      a run tag that makes Idempotency-Keys unique across runs (create_idem)
--
-- At the end it prints one line "bench: case=… ids=… wrapped=…": `wrapped` counts threads
-- that ran out of distinct ids and started again from their first one (for cancel that means
-- some requests were cheap no-ops, and run.sh flags the case).

local case = os.getenv("BENCH_CASE") or "retrieve"
local key = os.getenv("BENCH_KEY") or "sk_test_bench0000000000"
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
local pool = tonumber(os.getenv("BENCH_POOL") or "1")
local run_tag = os.getenv("BENCH_RUN") or tostring(os.time())

local COLLECTION = "/v1/identity/verification_sessions"
local FORM = "application/x-www-form-urlencoded"

-- Main-thread state: the wrk threads, numbered in creation order.
local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- Per-thread state (each wrk thread has its own Lua state; `tid` was set by setup()).
local ids = {}
local pos = 0
local counter = 0
wrapped = 0
nids = 0

local function load_ids()
   local path = os.getenv("BENCH_IDS")
   if not path then
      error("BENCH_IDS is required for case " .. case)
   end
   local f = assert(io.open(path, "r"))
   local n = 0
   for line in f:lines() do
      if line ~= "" then
         -- thread t takes lines t, t+T, t+2T, ...: no two threads share an id.
         if n % nthreads == tid then
            table.insert(ids, line)
         end
         n = n + 1
      end
   end
   f:close()
   nids = #ids
   if nids == 0 then
      error("no ids for thread " .. tid .. " in " .. path)
   end
end

local function next_id()
   pos = pos + 1
   if pos > nids then
      pos = 1
      wrapped = wrapped + 1
   end
   return ids[pos]
end

local auth = { ["Authorization"] = "Bearer " .. key }
local post_headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = FORM }

function init(args)
   tid = tid or 0
   if case == "retrieve" or case == "update" or case == "cancel" then
      load_ids()
   end
   if case == "create" then
      -- Static request: wrk builds it once.
      wrk.method = "POST"
      wrk.path = COLLECTION
      wrk.headers["Authorization"] = "Bearer " .. key
      wrk.headers["Content-Type"] = FORM
      wrk.body = "type=document&metadata[k]=v"
   elseif case == "list" then
      wrk.method = "GET"
      wrk.path = COLLECTION .. "?limit=10&status=requires_input"
      wrk.headers["Authorization"] = "Bearer " .. key
   end
end

local builders = {
   create_idem = function()
      counter = counter + 1
      return wrk.format("POST", COLLECTION, {
         ["Authorization"] = "Bearer " .. key,
         ["Content-Type"] = FORM,
         ["Idempotency-Key"] = "bench-" .. run_tag .. "-" .. tid .. "-" .. counter,
      }, "type=document&metadata[k]=v")
   end,
   retrieve = function()
      return wrk.format("GET", COLLECTION .. "/" .. next_id(), auth)
   end,
   update = function()
      counter = counter + 1
      return wrk.format("POST", COLLECTION .. "/" .. next_id(), post_headers,
         "metadata[k]=v" .. counter)
   end,
   list_cref = function()
      counter = counter + 1
      local v = (counter * nthreads + tid) % pool
      return wrk.format("GET", COLLECTION .. "?limit=10&client_reference_id=user_" .. v, auth)
   end,
   cancel = function()
      return wrk.format("POST", COLLECTION .. "/" .. next_id() .. "/cancel", post_headers, "")
   end,
}

-- Cases with a static request (create, list) leave `request` undefined so wrk reuses the
-- pre-built request; every other case builds each request here.
if builders[case] then
   request = builders[case]
end

function done(summary, latency, requests)
   local total_ids, total_wrapped = 0, 0
   for _, t in ipairs(threads) do
      total_ids = total_ids + (tonumber(t:get("nids")) or 0)
      total_wrapped = total_wrapped + (tonumber(t:get("wrapped")) or 0)
   end
   io.write(string.format("bench: case=%s ids=%d wrapped=%d\n", case, total_ids, total_wrapped))
end
