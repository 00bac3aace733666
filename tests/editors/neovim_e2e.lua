-- Headless Neovim (0.7+) end-to-end: diagnostics, hover, a quick fix, the diagnostic goes away.
-- Run: nvim --headless -u NONE -c "luafile neovim_e2e.lua" with ATL_PYTHON, ATL_FILE, ATL_RESULT set.
local python = os.getenv("ATL_PYTHON")
local file = os.getenv("ATL_FILE")
local result_path = os.getenv("ATL_RESULT")
local steps = {}

local function step(name, value)
  table.insert(steps, name .. "=" .. tostring(value))
end

local function finish(code)
  local handle = io.open(result_path, "w")
  handle:write(table.concat(steps, "\n"))
  handle:close()
  vim.cmd("cquit " .. code)
end

local function run()
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  vim.bo.filetype = "python"
  local client_id = vim.lsp.start_client({
    name = "async-test-lint",
    cmd = { python, "-m", "async_test_lint.lsp" },
    root_dir = vim.fn.fnamemodify(file, ":h"),
  })
  assert(client_id, "the server did not start")
  vim.lsp.buf_attach_client(0, client_id)

  local got = vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 50)
  assert(got, "no diagnostics")
  local diagnostic = vim.diagnostic.get(0)[1]
  step("diagnostic_code", diagnostic.code)
  step("diagnostic_source", diagnostic.source)
  step("diagnostic_line", diagnostic.lnum)
  step("diagnostic_col", diagnostic.col)

  vim.api.nvim_win_set_cursor(0, { diagnostic.lnum + 1, diagnostic.col + 2 })
  local params = vim.lsp.util.make_position_params()
  local hovers = vim.lsp.buf_request_sync(0, "textDocument/hover", params, 10000)
  local hover_text = ""
  for _, response in pairs(hovers or {}) do
    if response.result and response.result.contents then
      hover_text = response.result.contents.value or ""
    end
  end
  step("hover_mentions_rule", hover_text:find("ATL101", 1, true) ~= nil)

  local offered = {}
  vim.ui.select = function(items, _, on_choice)
    for index, item in ipairs(items) do
      local action = item[2] or item.action or item
      table.insert(offered, action.title)
      if action.title:find("Convert", 1, true) then
        on_choice(item, index)
        return
      end
    end
    on_choice(nil, nil)
  end
  vim.lsp.buf.code_action()
  local fixed = vim.wait(20000, function()
    local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
    return text:find("IsolatedAsyncioTestCase", 1, true) ~= nil
  end, 50)
  step("offered", table.concat(offered, " | "))
  step("fix_applied", fixed)
  local cleared = vim.wait(20000, function() return #vim.diagnostic.get(0) == 0 end, 50)
  step("diagnostics_cleared", cleared)
  vim.cmd("write")
  vim.lsp.stop_client(client_id)
  vim.wait(2000, function() return vim.lsp.client_is_stopped(client_id) end, 50)
  finish(fixed and cleared and 0 or 1)
end

local ok, err = pcall(run)
if not ok then
  step("error", err)
  finish(2)
end
