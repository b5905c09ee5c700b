-- wrk script: every request slot sends 16 pipelined GETs at once (case iii of
-- bench/run_http.sh and bench/run_static.sh); wrk counts each response. The path is the
-- first argument after -- (default "/").
init = function(args)
  local path = args[1] or "/"
  local requests = {}
  for i = 1, 16 do
    requests[i] = wrk.format("GET", path)
  end
  batch = table.concat(requests)
end

request = function()
  return batch
end
