"""Regions as network namespaces: each region is a namespace of its own (its own interfaces, routes and sockets),
and a backbone namespace holds a Linux bridge that every region, and this (root) namespace, is plugged into by a
veth pair. Processes started in a region (``ip netns exec``) reach the others and this namespace only across
the bridge: nothing they bind is on this namespace's loopback, and no packet leaves the machine (the bridge has no
uplink, and no forwarding is switched on anywhere).

Delays between regions would be ``tc qdisc ... netem delay`` on each region's backbone-side veth. This host's
kernel has no netem qdisc ("Specified qdisc kind is unknown"), so :meth:`Regions.delay` says whether it could
apply one; the tests that need distance use the placement rule with clients' stated round-trip times instead.
Needs root (CAP_NET_ADMIN), as CI has.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from testkit.mesh import EdgeHost
from tests.support.netns import wrapper


def _run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    namespace: str
    ip: str
    backbone_dev: str
    """The backbone end of the region's veth pair: its egress is everything sent into the region."""

    def wrapper(self, directory: Path, executable: str) -> Path:
        """A script that runs ``executable`` in this region (``tests.support.netns.wrapper``)."""
        return wrapper(self.namespace, directory, executable)

    @property
    def host(self) -> EdgeHost:
        """How ``testkit.mesh`` starts an edge here: in the namespace, bound to the region's address."""
        return EdgeHost(ip=self.ip, command_prefix=("ip", "netns", "exec", self.namespace))


@dataclass(frozen=True, slots=True)
class Regions:
    backbone: str
    root_ip: str
    """This namespace's address on the bridge: where an API started here listens for the regions."""
    regions: dict[str, Region]

    def delay(self, region: str, ms: int) -> bool:
        """Delay traffic into ``region`` by ``ms`` (netem); False when this kernel has no netem qdisc."""
        r = self.regions[region]
        done = subprocess.run(
            ["ip", "netns", "exec", self.backbone, "tc", "qdisc", "replace", "dev", r.backbone_dev, "root",
             "netem", "delay", f"{ms}ms"],
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        return done.returncode == 0


@contextmanager
def regions(names: Sequence[str]) -> Iterator[Regions]:
    """A backbone bridge on a fresh /24 with this namespace at ``.1`` and each region at ``.10`` onwards; every
    namespace and pair is removed on exit."""
    tag = secrets.token_hex(2)
    subnet = f"10.{200 + int(tag[:2], 16) % 50}.{int(tag[2:], 16)}"
    backbone = f"mmbb-{tag}"
    with ExitStack() as undo:
        _run("ip", "netns", "add", backbone)
        undo.callback(subprocess.run, ["ip", "netns", "del", backbone], capture_output=True, timeout=10)
        _run("ip", "netns", "exec", backbone, "ip", "link", "add", "br0", "type", "bridge")
        _run("ip", "netns", "exec", backbone, "ip", "link", "set", "br0", "up")

        # This namespace's port on the bridge.
        root_dev, root_peer = f"mmr{tag}", f"mmrb{tag}"
        _run("ip", "link", "add", root_dev, "type", "veth", "peer", "name", root_peer)
        undo.callback(subprocess.run, ["ip", "link", "del", root_dev], capture_output=True, timeout=10)
        _plug(backbone, root_peer)
        _run("ip", "addr", "add", f"{subnet}.1/24", "dev", root_dev)
        _run("ip", "link", "set", root_dev, "up")

        made: dict[str, Region] = {}
        for i, name in enumerate(names):
            ns, dev, peer = f"mm{name[:6]}-{tag}", f"mmv{i}{tag}", f"mmb{i}{tag}"
            _run("ip", "netns", "add", ns)
            undo.callback(subprocess.run, ["ip", "netns", "del", ns], capture_output=True, timeout=10)
            _run("ip", "link", "add", dev, "type", "veth", "peer", "name", peer)
            _run("ip", "link", "set", dev, "netns", ns)
            _plug(backbone, peer)
            ip = f"{subnet}.{10 + i}"
            _run("ip", "netns", "exec", ns, "ip", "addr", "add", f"{ip}/24", "dev", dev)
            _run("ip", "netns", "exec", ns, "ip", "link", "set", dev, "up")
            _run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            made[name] = Region(name, ns, ip, peer)
        yield Regions(backbone, f"{subnet}.1", made)


def _plug(backbone: str, dev: str) -> None:
    """Move ``dev`` into the backbone and attach it to the bridge."""
    _run("ip", "link", "set", dev, "netns", backbone)
    _run("ip", "netns", "exec", backbone, "ip", "link", "set", dev, "master", "br0")
    _run("ip", "netns", "exec", backbone, "ip", "link", "set", dev, "up")
