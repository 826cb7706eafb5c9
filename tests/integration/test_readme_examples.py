"""The README's integration examples, run as a reader would paste them (issue 18: "usable from the README").

The ``sh`` blocks of its Integrations section run in one bash session (they share the helper and variables) and
the ``python`` block as a script, against an API of their own; the single sign-on block is configuration, loaded
as the API loads it. Two substitutions only: the API's address for
``http://localhost:8000``, and a local receiver for the example webhook host (which does not resolve here).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, make_settings

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE_URL = "http://localhost:8000"
EXAMPLE_HOOK = "https://hooks.example.com/meetmesh"
MARK = "=== block ==="


def _blocks(language: str) -> list[str]:
    text = README.read_text()
    section = text[text.index("## Integrations") :]
    section = section[: section.index("\n## ", 3)]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[RunningServer]:
    srv = RunningServer(make_settings(tmp_path, webhook_allowed_networks=("127.0.0.0/8",)))
    await srv.start()
    yield srv
    await srv.stop()


async def _run(argv: list[str], script: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(script.encode()), timeout=60)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{err.decode()[-2000:]}\n{out.decode()[-2000:]}"
    return out.decode()


async def test_the_shell_examples_work_as_written(api: RunningServer) -> None:
    assert shutil.which("curl") and shutil.which("jq"), "the examples use curl and jq (.ci/run installs them)"
    blocks = [b for b in _blocks("sh") if "API_OIDC_PROVIDERS" not in b]  # SSO's is configuration: below
    assert len(blocks) == 4, blocks  # helper, REST, webhooks, calendars
    hook = f"{api.url}/healthz"  # any local URL: the endpoint is created and its challenge queued
    script = f"echo '{MARK}'\n".join(b.replace(EXAMPLE_URL, api.url).replace(EXAMPLE_HOOK, hook) for b in blocks)
    outputs = (await _run(["bash", "-s"], "set -euo pipefail\n" + script)).split(MARK)
    assert len(outputs) == 4
    helper, rest, webhook, calendar = (o.strip() for o in outputs)
    assert helper == ""
    decoder = json.JSONDecoder()
    created, end = decoder.raw_decode(rest)  # curl prints each answer as it comes, without a newline
    listed, _ = decoder.raw_decode(rest[end:].lstrip())
    assert created["title"] == "Weekly sync" and re.fullmatch(r"[0-9]{11}", created["number"]), created
    assert created["id"] in json.dumps(listed), listed
    answer = json.loads(webhook)
    assert "errors" not in answer and answer["data"]["createWebhookEndpoint"]["secret"].startswith("whsec_"), answer
    assert calendar.startswith("BEGIN:VCALENDAR") and "Weekly sync" in calendar, calendar[:300]


async def test_the_python_example_works_as_written(api: RunningServer) -> None:
    (block,) = _blocks("python")
    body = block.replace(EXAMPLE_URL, api.url)
    imports = "".join(line + "\n" for line in body.splitlines() if line.startswith(("from ", "import ")))
    rest = "".join(line + "\n" for line in body.splitlines() if not line.startswith(("from ", "import ")))
    script = f"import asyncio\n{imports}\nasync def main():\n{textwrap.indent(rest, '    ')}\nasyncio.run(main())\n"
    # The account the example logs in to, as the shell examples' helper signs it up.
    signup = (
        "import asyncio\nfrom meetmesh import AsyncClient\n"
        f"async def main():\n    async with AsyncClient({api.url!r}) as mm:\n"
        "        await mm.sign_up('ada@example.org', 'correct horse', 'Ada')\nasyncio.run(main())\n"
    )
    await _run([sys.executable, "-"], signup)
    printed = (await _run([sys.executable, "-"], script)).strip()
    assert re.fullmatch(r"[0-9]{11}", printed), printed


async def test_the_single_sign_on_example_is_configuration_the_api_accepts() -> None:
    (block,) = [b for b in _blocks("sh") if "API_OIDC_PROVIDERS" in b]
    check = (
        "from api.settings import Settings\n"
        "from api.sso.providers import provider_for_email\n"
        "s = Settings.from_env()\n"
        "p = provider_for_email(s.oidc_providers, 'ada@acme.com')\n"
        "print(s.public_url, p.name, p.issuer, provider_for_email(s.oidc_providers, 'bob@example.org'))\n"
    )
    script = f"set -euo pipefail\n{block}\n{sys.executable} - <<'PY'\n{check}PY\n"
    out = (await _run(["bash", "-s"], script)).split()
    assert out == ["https://meet.acme.com", "acme", "https://login.acme.com/realms/staff", "None"], out
