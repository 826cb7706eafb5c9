"""A network namespace joined to this machine by a veth pair, for tests that need a constrained link: a process
started in the namespace (``ip netns exec``) reaches the host side's address through the pair, and traffic from
the host toward it can be shaped (``tc``) without touching loopback or any real interface. Needs root, as CI has.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def _run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        # Typically: not root (network namespaces and tc need CAP_NET_ADMIN; CI runs as root).
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")


@dataclass(frozen=True)
class Namespace:
    name: str
    host_ip: str
    """The host end's address: what processes in the namespace connect to."""
    ns_ip: str
    host_dev: str
    """The host end of the pair: shaping its egress shapes everything sent into the namespace."""

    def limit_downlink(self, kbit: int) -> None:
        """Hold traffic into the namespace to ``kbit`` kbit/s (token bucket; ~100 ms of queue, then drops, as a
        congested access link would)."""
        burst = max(4_000, kbit * 1000 // 8 // 20)  # bytes: ~50 ms at the rate
        _run("tc", "qdisc", "replace", "dev", self.host_dev, "root", "tbf", "rate", f"{kbit}kbit",
             "burst", str(burst), "latency", "100ms")  # fmt: skip

    def unlimit(self) -> None:
        subprocess.run(["tc", "qdisc", "del", "dev", self.host_dev, "root"], capture_output=True, timeout=10)

    def wrapper(self, directory: Path, executable: str) -> Path:
        """A script that runs ``executable`` in this namespace (for launchers that take an executable path)."""
        return wrapper(self.name, directory, executable)


def wrapper(namespace: str, directory: Path, executable: str) -> Path:
    """A script that runs ``executable`` in ``namespace``: for launchers that take an executable path, such as
    Playwright's, which talks to Chromium over inherited pipes (``ip netns exec`` keeps them open across its exec)."""
    script = directory / f"in-{namespace}"
    script.write_text(f'#!/bin/sh\nexec ip netns exec {namespace} {executable} "$@"\n')
    script.chmod(0o755)
    return script


@contextmanager
def namespace() -> Iterator[Namespace]:
    """A fresh namespace ``mm-<random>`` with a /30 on its veth pair; removed (with the pair) on exit."""
    tag = secrets.token_hex(3)
    name, host_dev, ns_dev = f"mm-{tag}", f"mmh{tag}", f"mmn{tag}"
    octet = int(tag[:2], 16)
    subnet = 4 * (int(tag[2:4], 16) % 64)
    host_ip, ns_ip = f"10.{77 + octet % 100}.{subnet}.1", f"10.{77 + octet % 100}.{subnet}.2"
    _run("ip", "netns", "add", name)
    try:
        _run("ip", "link", "add", host_dev, "type", "veth", "peer", "name", ns_dev)
        _run("ip", "link", "set", ns_dev, "netns", name)
        _run("ip", "addr", "add", f"{host_ip}/30", "dev", host_dev)
        _run("ip", "link", "set", host_dev, "up")
        _run("ip", "netns", "exec", name, "ip", "addr", "add", f"{ns_ip}/30", "dev", ns_dev)
        _run("ip", "netns", "exec", name, "ip", "link", "set", ns_dev, "up")
        _run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield Namespace(name, host_ip, ns_ip, host_dev)
    finally:
        subprocess.run(["ip", "link", "del", host_dev], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
