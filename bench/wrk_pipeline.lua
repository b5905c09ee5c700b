-- wrk script: every request slot sends 16 pipelined GETs of "/" at once (case iii of
-- bench/run_http.sh); wrk counts each response.
init = function(args)
  local requests = {}
  for i = 1, 16 do
    requests[i] = wrk.format("GET", "/")
  end
  batch = table.concat(requests)
end

request = function()
  return batch
end
