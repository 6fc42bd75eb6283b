-- wrk script: edit message 1 with each request.
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"content":"edit ' .. n .. '"}')
end
