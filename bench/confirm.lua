-- wrk script for bench/confirm_bench.py: POST /api/v1/receipts (confirm), one new receipt per
-- request. Arguments (after `--`):
--   KEY PREFIX FIRST_CUSTOMER LAST_CUSTOMER SPEND LINES_FILE
-- KEY: the register's API key. PREFIX: unique per wrk run; external_number and Idempotency-Key
-- are PREFIX-<thread>-<n>, so unique across threads and runs. The customer id is drawn at random
-- from FIRST_CUSTOMER..LAST_CUSTOMER. LINES_FILE holds the JSON array of the receipt's lines.
-- Prints `wrk_*: value` lines at the end (201s, other statuses, socket errors, latency).

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  key, prefix = args[1], args[2]
  first, last = tonumber(args[3]), tonumber(args[4])
  spend = tonumber(args[5])
  local fh = assert(io.open(args[6], "r"))
  lines = fh:read("*a")
  fh:close()
  sent, created, other, sample = 0, 0, 0, ""
  math.randomseed(tid * 7919 + os.time())
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
  }
end

function request()
  sent = sent + 1
  local id = string.format("%s-%d-%d", prefix, tid, sent)
  headers["Idempotency-Key"] = id
  local body = string.format(
    '{"customer":{"id":%d},"lines":%s,"spend":%d,"external_number":"%s"}',
    math.random(first, last), lines, spend, id
  )
  return wrk.format("POST", "/api/v1/receipts", headers, body)
end

function response(status, hdrs, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    if sample == "" then
      sample = status .. " " .. string.sub(string.gsub(body or "", "%s+", " "), 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local total_created, total_other, first_sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_created = total_created + thread:get("created")
    total_other = total_other + thread:get("other")
    if first_sample == "" then
      first_sample = thread:get("sample")
    end
  end
  local e = summary.errors
  io.write(string.format("wrk_201: %d\n", total_created))
  io.write(string.format("wrk_other_status: %d\n", total_other))
  io.write(string.format("wrk_socket_errors: %d\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("wrk_duration_s: %.3f\n", summary.duration / 1e6))
  io.write(string.format("wrk_latency_p50_ms: %.2f\n", latency:percentile(50) / 1000))
  io.write(string.format("wrk_latency_p99_ms: %.2f\n", latency:percentile(99) / 1000))
  if first_sample ~= "" then
    io.write("wrk_first_other: " .. first_sample .. "\n")
  end
end
