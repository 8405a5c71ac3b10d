#!/usr/bin/env bash
# Install a pinned Claude Code CLI into .tools/claude-code for the end-to-end tests (tests/e2e).
# Idempotent: when the pinned version is already there it only prints the path.
# stdout is exactly one line, the path of the `claude` binary, so callers can capture it.
# Without npm it says so and exits 0: the e2e tests then skip, naming this script.
set -euo pipefail

# Pinned because the e2e tests assert on what this client puts in its requests;
# bump deliberately and re-run tests/e2e.
VERSION="${CLAUDE_CODE_VERSION:-2.1.331}"
HERE="${BASH_SOURCE[0]%/*}"
[ "$HERE" != "${BASH_SOURCE[0]}" ] || HERE=.
ROOT="$(cd "$HERE/.." && pwd)"
PREFIX="$ROOT/.tools/claude-code"
BIN="$PREFIX/node_modules/.bin/claude"
MANIFEST="$PREFIX/node_modules/@anthropic-ai/claude-code/package.json"

installed_version() {
  [ -f "$MANIFEST" ] || return 0
  sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$MANIFEST" | head -n 1
}

if [ -x "$BIN" ] && [ "$(installed_version)" = "$VERSION" ]; then
  echo "$BIN"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-claude-code: npm not found; Claude Code not installed, tests/e2e will skip" >&2
  exit 0
fi

mkdir -p "$PREFIX"
[ -f "$PREFIX/package.json" ] || echo '{"private": true}' >"$PREFIX/package.json"
echo "install-claude-code: installing @anthropic-ai/claude-code@$VERSION into $PREFIX" >&2
# A registry hiccup should not fail a build: three tries, a short pause between them.
for attempt in 1 2 3; do
  if npm install --prefix "$PREFIX" --save-exact --no-audit --no-fund --loglevel=error \
    "@anthropic-ai/claude-code@$VERSION" >&2; then
    break
  fi
  if [ "$attempt" = 3 ]; then
    echo "install-claude-code: npm install failed three times" >&2
    exit 3
  fi
  sleep $((attempt * 5))
done

if ! "$BIN" --version >/dev/null 2>&1; then
  echo "install-claude-code: installed, but '$BIN --version' fails" >&2
  exit 3
fi
echo "$BIN"
