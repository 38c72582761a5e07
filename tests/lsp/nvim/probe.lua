-- Headless Neovim as a second real LSP client: start `scout serve`, wait for the index, ask for
-- code actions at `data LLMKind`, run the first one, and read the lenses it leaves.
-- Arguments come from the environment: SCOUT_PYTHON, SCOUT_ROOT, SCOUT_OUT.
local root = os.getenv("SCOUT_ROOT")
local out = os.getenv("SCOUT_OUT")
local report = {}

local function finish(code)
  local f = assert(io.open(out, "w"))
  f:write(vim.fn.json_encode(report))
  f:close()
  vim.cmd("qall!")
end

local ok, err = pcall(function()
  local client_id = vim.lsp.start_client({
    name = "semantic-scout",
    cmd = { os.getenv("SCOUT_PYTHON"), "-m", "scout", "serve" },
    root_dir = root,
    settings = { semanticScout = { scorer = "heuristic" } },
  })
  assert(client_id, "the server did not start")
  local file = root .. "/src/LLM/Types.hs"
  vim.cmd("edit " .. file)
  local bufnr = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(bufnr, client_id)
  local client
  vim.wait(20000, function()
    client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.initialized
  end, 50)
  assert(client and client.initialized, "initialize did not finish")
  report.capabilities = {
    code_action = client.server_capabilities.codeActionProvider ~= nil,
    code_lens = client.server_capabilities.codeLensProvider ~= nil,
    hover = client.server_capabilities.hoverProvider or false,
  }
  local ready = vim.wait(60000, function()
    local r = client.request_sync("workspace/executeCommand",
      { command = "scout.indexStatus" }, 5000, bufnr)
    return r and r.result and r.result.index.state == "ready"
  end, 100)
  assert(ready, "the index never became ready")
  local line = nil
  for i, text in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if text:find("^data LLMKind") then line = i - 1 break end
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local actions = client.request_sync("textDocument/codeAction", {
    textDocument = { uri = uri },
    range = { start = { line = line, character = 6 }, ["end"] = { line = line, character = 6 } },
    context = { diagnostics = {} },
  }, 10000, bufnr)
  report.actions = {}
  for _, action in ipairs(actions.result or {}) do
    table.insert(report.actions, action.title)
  end
  local first = actions.result[1]
  local answer = client.request_sync("workspace/executeCommand", first.command, 30000, bufnr)
  report.answer_status = answer.result.status
  report.nodes_kept = answer.result.result.coverage.nodes_kept
  local lenses = client.request_sync("textDocument/codeLens", { textDocument = { uri = uri } },
    10000, bufnr)
  report.lenses = {}
  for _, lens in ipairs(lenses.result or {}) do
    table.insert(report.lenses, { line = lens.range.start.line, title = lens.command.title })
  end
  report.summary_line = line
  client.stop()
end)
if not ok then report.error = tostring(err) end
finish()
