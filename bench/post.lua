-- wrk script: POST a new message each request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil,
    '{"sender":1,"receiver":2,"content":"bench message ' .. n .. '"}')
end
