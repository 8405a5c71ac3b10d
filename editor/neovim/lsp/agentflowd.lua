-- Neovim >= 0.11: put this folder on 'runtimepath' (or copy this file to
-- ~/.config/nvim/lsp/agentflowd.lua) and call vim.lsp.enable('agentflowd').
return {
  cmd = { 'agentflowd', 'serve' },
  filetypes = { 'markdown' },
  root_markers = { '.claude', '.git' },
  init_options = { diagnosticsDelayMs = 30 },
}
