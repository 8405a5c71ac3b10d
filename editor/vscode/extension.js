// Attaches the agentflowd language server to skill files. Install the dependency with
// `npm install` in this folder (nothing is installed in the repository itself).
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

// Only skill, sub-agent and command files; the server ignores other markdown anyway, but
// not sending it saves the editor the round trips.
const DOCUMENTS = [
  { scheme: "file", language: "markdown", pattern: "**/SKILL.md" },
  { scheme: "file", language: "markdown", pattern: "**/.claude/agents/**/*.md" },
  { scheme: "file", language: "markdown", pattern: "**/.claude/commands/**/*.md" },
];

function createClient() {
  const config = vscode.workspace.getConfiguration("agentflowd");
  const [command, ...args] = config.get("command", ["agentflowd", "serve"]);
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  const serverOptions = {
    command,
    args,
    options: folder ? { cwd: folder.uri.fsPath } : undefined,
  };
  const clientOptions = {
    documentSelector: DOCUMENTS,
    // No `synchronize.fileEvents`: the server watches the skill, agent and command folders
    // itself (home and plugins included), and each event from here would rediscover the
    // catalog a second time.
    initializationOptions: { diagnosticsDelayMs: config.get("diagnosticsDelayMs", 30) },
  };
  return new LanguageClient("agentflowd", "agentflowd", serverOptions, clientOptions);
}

async function activate(context) {
  client = createClient();
  await client.start();
  context.subscriptions.push(
    vscode.commands.registerCommand("agentflowd.restart", async () => {
      if (client) {
        await client.stop();
      }
      client = createClient();
      await client.start();
    })
  );
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
