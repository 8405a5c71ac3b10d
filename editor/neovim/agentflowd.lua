-- Neovim 0.8 - 0.10 (no vim.lsp.config): start agentflowd for skill files.
-- Source this from your init.lua, e.g. `dofile('/path/to/editor/neovim/agentflowd.lua')`.
local function is_skill_file(path)
  return path:match('/SKILL%.md$') or path:match('/%.claude/agents/.+%.md$')
    or path:match('/%.claude/commands/.+%.md$')
end

vim.api.nvim_create_autocmd('FileType', {
  pattern = 'markdown',
  callback = function(args)
    local path = vim.api.nvim_buf_get_name(args.buf)
    if not is_skill_file(path) then
      return
    end
    local root = vim.fs.dirname(vim.fs.find({ '.claude', '.git' }, { upward = true, path = path })[1] or path)
    vim.lsp.start({
      name = 'agentflowd',
      cmd = { 'agentflowd', 'serve' },
      root_dir = root,
      init_options = { diagnosticsDelayMs = 30 },
    })
  end,
})
