# meetmesh tasks. On a fresh machine run them through ./dev (it installs uv and just first).

set dotenv-load := false

# Start the whole stack with embedded defaults (SQLite under ./var, in-process bus) and print the URL.
up:
    uv sync --frozen --quiet
    sh web/install.sh
    uv run --frozen python -m stack

# The API and three media edges labelled as regions (eu-west, us-east, ap-south) on this machine, each registered
# with the API, which places each meeting on the edge nearest its first participant (docs/relay.md).
up-mesh edges="3":
    uv sync --frozen --quiet
    sh web/install.sh
    uv run --frozen python -m stack --edges {{edges}}

# Run the full test suite (SQLite and PostgreSQL, real servers and sockets).
test *ARGS:
    uv sync --frozen --quiet
    sh web/install.sh
    uv run --frozen pytest -q -p no:cacheprovider {{ARGS}}

# The quick subset for iterating: no slow end-to-end or load suites.
test-fast *ARGS:
    uv sync --frozen --quiet
    sh web/install.sh
    uv run --frozen pytest -q -m "not slow" {{ARGS}}

# Benchmarks; writes bench/results.json.
bench:
    uv sync --frozen --quiet
    sh web/install.sh
    uv run --frozen python -m bench

# Bounded headless Locust run against a server it starts itself. scenario: join (sign up, create, join, leave)
# or chat (guests chatting in one meeting, timing delivery of their own messages on their subscriptions).
loadtest users="20" seconds="15" scenario="join":
    uv sync --frozen --quiet
    uv run --frozen python -m loadtests.smoke --scenario {{scenario}} --users {{users}} --seconds {{seconds}}

# Bounded media load: synthetic aiortc participants in one meeting through a throwaway API and edge; JSON report.
media-load participants="4" seconds="10":
    uv sync --frozen --quiet
    uv run --frozen python -m loadtests.media_load --participants {{participants}} --seconds {{seconds}}

# The largest meeting one edge holds here: ramp synthetic participants (most receive-only) until something gives
large-meeting participants="100" publishers="10" seconds="20":
    uv sync --frozen --quiet
    uv run --frozen python -m loadtests.large_meeting --participants {{participants}} --publishers {{publishers}} --seconds {{seconds}}

# Lint, format check, types and package boundaries (the contracts are in pyproject.toml, [tool.importlinter]).
lint:
    uv run --frozen ruff check .
    uv run --frozen ruff format --check .
    uv run --frozen mypy protocol sfu api dbschema edge relay workers capture stack testkit sdk/python/meetmesh
    uv run --frozen lint-imports

# Install the web client's npm dependencies (web/node_modules) if missing or stale; Node from PyPI if none.
web:
    sh web/install.sh

# Regenerate api/schema.graphql from the code.
schema:
    uv run --frozen python -m api.graphql.export > api/schema.graphql

# Apply database migrations to the configured database (they also run on start).
migrate:
    uv run --frozen python -m stack.migrate
