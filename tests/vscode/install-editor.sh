#!/usr/bin/env bash
# Install what the real-editor test needs (idempotent): Debian's Chromium, and code-server
# 4.100.3 (the last release for Node 20) from npm, into a cache folder outside the checkout
# (SCOUT_EDITOR_CACHE, default ~/.cache/semantic-scout). Prints nothing on success when both are
# already there. Needs root for apt-get; otherwise says what to install.
set -euo pipefail
CODE_SERVER_VERSION=4.100.3
CACHE=${SCOUT_EDITOR_CACHE:-$HOME/.cache/semantic-scout}
PREFIX="$CACHE/code-server-$CODE_SERVER_VERSION"

need_apt=()
[ -x /usr/lib/chromium/chromium ] || need_apt+=(chromium)
command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
# code-server's optional kerberos module compiles against libkrb5 headers.
[ -e /usr/include/krb5.h ] || [ -e /usr/include/krb5/krb5.h ] || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-editor: apt-get install ${need_apt[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "install-editor: missing ${need_apt[*]}; install them with: apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
fi

if [ ! -x "$PREFIX/node_modules/.bin/code-server" ]; then
  # @vscode/ripgrep's postinstall downloads rg from GitHub, which is unreachable here: seed its
  # download cache with Debian's rg, packed the way the download would be.
  TMP=$(node -e 'process.stdout.write(require("os").tmpdir())')
  RG_CACHE="$TMP/vscode-ripgrep-cache-1.15.11"
  RG_TGZ="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
  if [ ! -s "$RG_TGZ" ]; then
    mkdir -p "$RG_CACHE"
    STAGE=$(mktemp -d)
    cp "$(command -v rg)" "$STAGE/rg"
    tar -C "$STAGE" -czf "$RG_TGZ" rg
    rm -rf "$STAGE"
  fi
  echo "install-editor: npm install code-server@$CODE_SERVER_VERSION into $PREFIX (about 3 minutes)" >&2
  rm -rf "$PREFIX.partial"
  mkdir -p "$PREFIX.partial"
  (
    cd "$PREFIX.partial"
    echo '{"private": true}' > package.json
    npm_config_yes=true npm_config_unsafe_perm=true npm_config_fund=false npm_config_audit=false \
      npm install --no-save --loglevel=error --foreground-scripts "code-server@$CODE_SERVER_VERSION" \
      > install.log 2>&1 || { tail -40 install.log >&2; exit 1; }
  )
  rm -rf "$PREFIX"
  mv "$PREFIX.partial" "$PREFIX"
fi
"$PREFIX/node_modules/.bin/code-server" --version >/dev/null
