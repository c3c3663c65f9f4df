"""The qemu machines' base image, built offline from Debian packages and cached by recipe digest.

``debootstrap --variant=minbase --include=<recipes/qemu/packages> SUITE`` (Debian's kernel,
docker.io with its CLI, sshd, tini), a small initrd (initramfs-tools, ``MODULES=list``: virtio and
ext4 only), ``recipes/qemu/dojo-vm-init`` as PID 1, then ``mkfs.ext4 -d`` (no loop device, no
privileges beyond the debootstrap) and ``qemu-img convert`` into a qcow2 base that every machine
overlays copy-on-write.  The kernel and initrd are booted directly (no boot loader).

Two cached stages, so that a change of the init script does not fetch the packages again:
``$XDG_CACHE_HOME/dojo-exec/qemu/rootfs-<suite>-<digest of packages>.tar`` (the debootstrapped
tree, a few minutes), then ``<suite>-<digest of the whole recipe>/`` with ``vmlinuz``,
``initrd.img``, ``base.qcow2`` and ``image.json`` (about a minute; the directory appears whole).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dojo_exec import spawn
from dojo_exec.machines import certs
from dojo_exec.machines.base_image import RECIPES, Log, apt_sources, recipe_hash

RECIPE = RECIPES / "qemu"
INIT = "/usr/sbin/dojo-vm-init"
ROOT_SIZE = "6G"
"""The root filesystem's size (sparse: the base holds only what the packages use)."""
DEFAULT_SUITE = "bookworm"


@dataclass(frozen=True)
class VmImage:
    """A built base image: kernel, initrd and root disk, plus what provenance reports."""

    directory: Path
    suite: str
    kernel_version: str
    engine_version: str

    @property
    def kernel(self) -> Path:
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.img"

    @property
    def disk(self) -> Path:
        return self.directory / "base.qcow2"


def cache_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "dojo-exec" / "qemu"


def packages() -> list[str]:
    lines = (RECIPE / "packages").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def image_digest(suite: str) -> str:
    files = sorted(p for p in RECIPE.iterdir() if p.is_file())
    return recipe_hash(files, suite, ROOT_SIZE)


def rootfs_tar(suite: str = DEFAULT_SUITE) -> Path:
    """The debootstrapped tree of ``suite`` with the recipe's packages (stage 1's cache)."""
    return cache_root() / f"rootfs-{suite}-{recipe_hash([RECIPE / 'packages'], suite)}.tar"


def image_dir(suite: str = DEFAULT_SUITE) -> Path:
    return cache_root() / f"{suite}-{image_digest(suite)}"


def cached_image(suite: str = DEFAULT_SUITE) -> VmImage | None:
    """The built image of ``suite`` for the current recipe, or None."""
    directory = image_dir(suite)
    try:
        facts = json.loads((directory / "image.json").read_text())
    except (OSError, ValueError):
        return None
    return VmImage(directory, suite, facts["kernel"], facts["engine"])


def ensure_image(suite: str = DEFAULT_SUITE, *, log: Log = print) -> VmImage:
    """The image of ``suite``, built when missing (a few minutes; once per recipe change)."""
    image = cached_image(suite)
    if image is not None:
        return image
    directory = image_dir(suite)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with certs.file_lock(directory.parent / f"{directory.name}.lock"):
        image = cached_image(suite)
        if image is None:
            image = _build(suite, directory, log)
    return image


def _run(argv: list[str], what: str, *, cwd: Path | None = None) -> str:
    proc = spawn.run(argv, capture_output=True, text=True, check=False, cwd=cwd)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {' '.join(argv)}\n{tail}")
    return str(proc.stdout)


def _tool(name: str, package: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else "")
    if not path:
        raise RuntimeError(f"{name} is not installed (apt-get install {package})")
    return path


def _ensure_rootfs(suite: str, log: Log) -> Path:
    """Stage 1: ``debootstrap --include=<packages>`` as a tar (numeric owners), cached."""
    tar = rootfs_tar(suite)
    if tar.exists():
        return tar
    debootstrap = _tool("debootstrap", "debootstrap")
    work = Path(tempfile.mkdtemp(prefix=f"dojo-rootfs-{suite}-", dir=tar.parent))
    try:
        root = work / "root"
        include = ",".join(packages())
        log(f"qemu image: debootstrap {suite} with {include}")
        _run(
            [debootstrap, "--variant=minbase", f"--include={include}", suite, str(root)],
            f"debootstrap {suite}",
        )
        partial = work / "rootfs.tar"
        apt_cache = "./var/cache/apt/archives/*.deb"
        _run(
            [
                "tar",
                "-C",
                str(root),
                "--numeric-owner",
                f"--exclude={apt_cache}",
                "-cf",
                str(partial),
                ".",
            ],
            "tar",
        )
        partial.rename(tar)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tar


def _build(suite: str, directory: Path, log: Log) -> VmImage:
    started = time.monotonic()
    mkfs = _tool("mkfs.ext4", "e2fsprogs")
    qemu_img = _tool("qemu-img", "qemu-utils")
    tar = _ensure_rootfs(suite, log)
    shutil.rmtree(directory, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f"dojo-vm-{suite}-", dir=directory.parent))
    try:
        root = work / "root"
        root.mkdir()
        _run(["tar", "-C", str(root), "--numeric-owner", "-xpf", str(tar)], "untar")
        _configure(root, suite)
        _run(["chroot", str(root), "update-initramfs", "-u", "-k", "all"], "update-initramfs")
        kernel_version = _kernel_version(root)
        engine = _run(["chroot", str(root), "dockerd", "--version"], "dockerd --version")
        engine_version = engine.split()[2].rstrip(",") if len(engine.split()) > 2 else "unknown"
        staging = work / "image"
        staging.mkdir()
        shutil.copy(root / "boot" / f"vmlinuz-{kernel_version}", staging / "vmlinuz")
        shutil.copy(root / "boot" / f"initrd.img-{kernel_version}", staging / "initrd.img")
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "boot"):
            for path in (root / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        raw = work / "root.ext4"
        log(f"qemu image: mkfs.ext4 -d ({ROOT_SIZE})")
        _run([mkfs, "-q", "-F", "-L", "dojo-root", "-d", str(root), str(raw), ROOT_SIZE], "mkfs")
        _run(
            [
                qemu_img,
                "convert",
                "-f",
                "raw",
                "-O",
                "qcow2",
                str(raw),
                str(staging / "base.qcow2"),
            ],
            "qemu-img convert",
        )
        facts = {"suite": suite, "kernel": kernel_version, "engine": engine_version}
        (staging / "image.json").write_text(json.dumps(facts, indent=2) + "\n")
        staging.rename(directory)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"qemu image: {directory} in {time.monotonic() - started:.0f} s")
    image = cached_image(suite)
    assert image is not None
    return image


def _kernel_version(root: Path) -> str:
    kernels = sorted(p.name.removeprefix("vmlinuz-") for p in (root / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise RuntimeError("the root filesystem has no kernel in /boot")
    return kernels[-1]


def _configure(root: Path, suite: str) -> None:
    """The files that make the debootstrapped tree a dojo VM (see the module docstring)."""
    (root / "etc/apt/sources.list").write_text(apt_sources(suite))
    conf = root / "etc/initramfs-tools"
    (conf / "conf.d").mkdir(parents=True, exist_ok=True)
    (conf / "conf.d" / "dojo").write_text("MODULES=list\nCOMPRESS=gzip\n")
    (conf / "modules").write_text((RECIPE / "initramfs-modules").read_text())
    shutil.copy(RECIPE / "dojo-vm-init", root / INIT.lstrip("/"))
    (root / INIT.lstrip("/")).chmod(0o755)
    (root / "etc/fstab").write_text("LABEL=dojo-root / ext4 defaults 0 1\n")
    ssh = root / "etc/ssh/sshd_config.d"
    ssh.mkdir(parents=True, exist_ok=True)
    (ssh / "dojo.conf").write_text(
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n"
    )
    (root / "root/.ssh").mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (root / "etc/machine-id").write_text("")
