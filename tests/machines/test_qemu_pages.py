"""The dojo's ``setup`` and ``swarm`` pages, unchanged, on qemu VMs (``--dojo-driver qemu``).

``setup`` creates three machines with ``docker-machine create --driver virtualbox``; on this
provider each is a QEMU VM resumed from the image's saved VM; ``swarm`` forms a swarm of them
over the cluster's L2.  The whole dojo on qemu is the slower ``nox -s qemu``.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from cli_runs import run_cli, summary
from qemu_vms import require_qemu

from dojo_exec.machines.driver import Scope
from dojo_exec.machines.qemu.image import ensure_image
from dojo_exec.machines.qemu.sweeper import QemuSweeper

# the first run builds the VM image (debootstrap: minutes) and saves the template VM
pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("qemu"), pytest.mark.timeout(2400)]

ROOT = Path(__file__).resolve().parents[2]


def test_setup_and_swarm_pass_on_qemu_vms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_qemu()
    image = ensure_image()
    run = f"qemu-pages-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DOJO_RUN", run)
    monkeypatch.delenv("DOJO_DRIVER", raising=False)
    transcripts = tmp_path / "transcripts"
    result = run_cli(
        ROOT,
        "verify", "docs/setup.md", "docs/swarm.md", "--transcripts", str(transcripts),
        "--", "--dojo-driver", "qemu", "-n", "0", "-p", "no:cacheprovider",
        timeout=1800,
    )  # fmt: skip
    try:
        counts = summary(result.stdout)
        assert counts["failed"] == 0 and counts["passed"] == counts["steps"] > 10, result.stdout
        runs = [json.loads(p.read_text()) for p in transcripts.rglob("*.json")]
        drivers = {r["driver"] for t in runs for r in t.get("runs", [t])}
        assert drivers == {f"qemu (QEMU/TCG, guest kernel {image.kernel_version})"} or drivers == {
            f"qemu (QEMU/KVM, guest kernel {image.kernel_version})"
        }, drivers
    finally:
        assert QemuSweeper().leaks(Scope(run=run)) == [], os.environ.get("DOJO_RUN")
