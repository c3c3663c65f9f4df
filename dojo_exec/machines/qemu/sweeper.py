"""The qemu provider's leftovers: VM folders (process, overlay, sockets) found by their label.

Each VM folder's ``vm.json`` names its cluster, machine, store and ``$DOJO_RUN`` (see :mod:`.vm`),
so a crash or Ctrl-C anywhere leaves nothing that a sweep of its cluster, its run or everything
does not find: the QEMU process is ended, the folder deleted, the machine's directory removed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dojo_exec.machines.driver import Scope
from dojo_exec.machines.qemu.vm import Vm, VmLabel, all_vms


def _in_scope(label: VmLabel | None, scope: Scope) -> bool:
    if scope.run is not None:
        return label is not None and label.run == scope.run
    if scope.cluster is not None:
        return label is not None and label.cluster == scope.cluster
    return True


def _describe(vm: Vm) -> str:
    pid = vm.pid()
    return f"qemu vm {vm.directory}" + (f" (pid {pid})" if pid else "")


class QemuSweeper:
    """:class:`~dojo_exec.machines.driver.Sweeper` of the qemu provider."""

    name = "qemu"

    def leaks(self, scope: Scope) -> list[str]:
        return [_describe(vm) for vm in all_vms() if _in_scope(vm.label(), scope)]

    def remove(self, scope: Scope) -> list[str]:
        removed: list[str] = []
        for vm in all_vms():
            label = vm.label()
            if not _in_scope(label, scope):
                continue
            removed.append(_describe(vm))
            vm.remove()
            if label is not None:
                machine_dir = Path(label.store) / "machines" / label.machine
                config = machine_dir / "config.json"
                if config.is_file() and str(vm.directory) in config.read_text():
                    shutil.rmtree(machine_dir, ignore_errors=True)
                    removed.append(f"machine {machine_dir}")
        return removed
