-- wrk script: replays the site mix's request list (bench/make_site.py writes it; the path to
-- it is the first argument after --), each thread from its own offset.
local list = {}
local next_index = 1

init = function(args)
  for line in io.lines(args[1]) do
    local path, conditional = line:match("^([^\t]*)\t?(.*)$")
    local headers = {}
    if conditional ~= nil and conditional ~= "" then
      local name, value = conditional:match("^([^:]+): (.*)$")
      headers[name] = value
    end
    list[#list + 1] = wrk.format("GET", path, headers)
  end
  next_index = (wrk.thread_index or math.random(#list)) % #list + 1
end

request = function()
  local r = list[next_index]
  next_index = next_index % #list + 1
  return r
end
