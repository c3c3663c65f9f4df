"""Machines of both providers: seconds from nothing (images present) to a formed 3-node TLS swarm.

    python benchmarks/bench_machines.py [--runs 3] [--cli] [--build] [--shim-only] [--no-qemu]

shim  the ``docker-machine`` shim's own start-up: ``docker-machine ls`` with no machines, as a
      ratio to a bare ``python -c pass`` (the interpreter's start-up); needs no engine;
api   machines created concurrently by the driver, swarm init/join over each node's TLS API, until
      ``docker node ls`` on the manager shows 3 Ready nodes (goal: <= 10 s on 2 cores);
cli   the same as the workshop types it: 3 parallel ``docker-machine create`` + ``ssh`` init/join;
build node image built from the (present) Debian base with a cache-busting build arg;
qemu  (when QEMU is installed) the qemu provider: 3 VMs created concurrently booting cold, then 3
      resumed from the saved VM, each time until a 3-node TLS swarm formed; memory per machine
      (the QEMU processes' resident set; the embedded nodes' cgroup usage for comparison).
Every run uses its own cluster and removes it (teardown is timed too).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import docker

from dojo_exec.machines.cli import install_shim
from dojo_exec.machines.dind import DindDriver, tls_client
from dojo_exec.machines.store import Store
from dojo_exec.machines.teardown import leaks, remove_cluster

NAMES = ("manager1", "worker1", "worker2")


def quiet(_: str) -> None:
    pass


def wait_ready(manager: docker.DockerClient, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        nodes = manager.nodes.list()
        if sum(n.attrs["Status"]["State"] == "ready" for n in nodes) >= count:
            return
        time.sleep(0.05)
    raise RuntimeError("swarm did not form")


def form_swarm(engines: dict[str, docker.DockerClient], ip: str, timeout: float = 60) -> None:
    """manager1 inits a swarm advertising ``ip``, the workers join it, until 3 nodes are Ready."""
    engines["manager1"].swarm.init(advertise_addr=ip, listen_addr=f"{ip}:2377")
    token = engines["manager1"].swarm.attrs["JoinTokens"]["Worker"]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(
            pool.map(lambda n: engines[n].swarm.join([f"{ip}:2377"], token), ("worker1", "worker2"))
        )
    wait_ready(engines["manager1"], 3, timeout=timeout)


def run_api(client: docker.DockerClient, root: Path) -> dict[str, float]:
    cluster = f"bench-{uuid.uuid4().hex[:6]}"
    store = Store(root / cluster)
    driver = DindDriver(client, store, cluster, progress=quiet)
    driver._node_image()  # present already: not part of the measurement
    times: dict[str, float] = {}
    start = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            list(pool.map(driver.create, NAMES))
        times["machines"] = time.monotonic() - start
        engines = {n: tls_client(store.machine_dir(n), store.load(n).ip) for n in NAMES}
        ip = store.load("manager1").ip
        form_swarm(engines, ip)
        times["swarm"] = time.monotonic() - start
        times["memory"] = statistics.mean(
            client.containers.get(store.load(n).container).stats(stream=False)["memory_stats"][
                "usage"
            ]
            for n in NAMES
        )
        for engine in engines.values():
            engine.close()
    finally:
        removing = time.monotonic()
        remove_cluster(client, cluster, stores=[store])
        times["teardown"] = time.monotonic() - removing
        assert leaks(client, cluster, stores=[store]) == []
    return times


def _rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1]) * 1024
    return 0.0


def run_qemu(root: Path, snapshot: bool) -> dict[str, float]:
    """3 qemu machines created concurrently (cold boots, or resumed from the saved VM), then a
    swarm of them over their TLS APIs; memory is the mean resident set of their QEMU processes."""
    from dojo_exec.machines.driver import Scope
    from dojo_exec.machines.qemu.driver import QemuDriver
    from dojo_exec.machines.qemu.image import ensure_image
    from dojo_exec.machines.qemu.snapshot import ensure_snapshot
    from dojo_exec.machines.qemu.sweeper import QemuSweeper
    from dojo_exec.machines.qemu.vm import Vm

    image = ensure_image(log=quiet)
    if snapshot:
        ensure_snapshot(image, log=quiet)  # made once per image: not part of the measurement
    os.environ["DOJO_QEMU_SNAPSHOT"] = "1" if snapshot else "0"
    cluster = f"bench-{uuid.uuid4().hex[:6]}"
    store = Store(root / cluster)
    driver = QemuDriver(store, cluster, progress=quiet, mirror=False)
    times: dict[str, float] = {}
    start = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            list(pool.map(driver.create, NAMES))
        times["machines"] = time.monotonic() - start
        records = {n: store.load(n) for n in NAMES}
        engines = {
            n: tls_client(store.machine_dir(n), r.api_host, 60, port=r.api_port)
            for n, r in records.items()
        }
        ip = records["manager1"].ip
        form_swarm(engines, ip, timeout=300)
        times["swarm"] = time.monotonic() - start
        times["memory"] = statistics.mean(
            _rss(Vm(Path(r.runtime)).pid() or 0) for r in records.values()
        )
        for engine in engines.values():
            engine.close()
    finally:
        os.environ.pop("DOJO_QEMU_SNAPSHOT", None)
        removing = time.monotonic()
        QemuSweeper().remove(Scope(cluster=cluster))
        times["teardown"] = time.monotonic() - removing
        assert QemuSweeper().leaks(Scope(cluster=cluster)) == []
    return times


def print_qemu(root: Path) -> None:
    from dojo_exec.machines.qemu.vm import accelerator

    print(f"qemu accelerator {accelerator()}")
    for label, snapshot in (("cold", False), ("snapshot", True)):
        times = run_qemu(root, snapshot)
        print(
            f"qemu {label:8} 3 machines {times['machines']:6.1f} s  3-node TLS swarm "
            f"{times['swarm']:6.1f} s  teardown {times['teardown']:4.1f} s  "
            f"memory/machine {times['memory'] / 2**20:5.0f} MiB"
        )


def run_cli(client: docker.DockerClient, root: Path) -> dict[str, float]:
    cluster = f"bench-{uuid.uuid4().hex[:6]}"
    shim_dir = root / "bin"
    install_shim(shim_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(
        PATH=f"{shim_dir}{os.pathsep}{env['PATH']}",
        DOJO_CLUSTER=cluster,
        MACHINE_STORAGE_PATH=str(root / cluster),
    )
    script = """
set -e
for m in manager1 worker1 worker2; do docker-machine create -d virtualbox $m >/dev/null 2>&1 & done
wait
ip=$(docker-machine ip manager1)
docker-machine ssh manager1 docker swarm init --advertise-addr $ip >/dev/null
token=$(docker-machine ssh manager1 docker swarm join-token -q worker)
docker-machine ssh worker1 docker swarm join --token $token $ip:2377 >/dev/null &
docker-machine ssh worker2 docker swarm join --token $token $ip:2377 >/dev/null &
wait
eval $(docker-machine env manager1)
until [ "$(docker node ls --format '{{.Status}}' | grep -c Ready)" = 3 ]; do sleep 0.1; done
"""
    times: dict[str, float] = {}
    start = time.monotonic()
    try:
        subprocess.run(["bash", "-c", script], env=env, check=True, timeout=300)
        times["swarm"] = time.monotonic() - start
    finally:
        removing = time.monotonic()
        subprocess.run(
            ["bash", "-c", "docker-machine rm -y manager1 worker1 worker2 >/dev/null"],
            env=env,
            check=False,
        )
        times["teardown"] = time.monotonic() - removing
        remove_cluster(client, cluster, stores=[Store(root / cluster)])
    return times


def run_shim(root: Path, runs: int = 15) -> tuple[float, float]:
    """Median seconds of ``docker-machine ls`` (no machines) through the shim, and of a bare
    interpreter start-up."""
    shim_dir = root / "shim-bin"
    install_shim(shim_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOJO_"))}
    env.update(MACHINE_STORAGE_PATH=str(root / "shim-store"), DOJO_CLUSTER="bench-shim")

    def median(command: list[str]) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return median([str(shim_dir / "docker-machine"), "ls"]), median([sys.executable, "-c", "pass"])


def print_shim(root: Path) -> None:
    shim, bare = run_shim(root)
    print(
        f"shim docker-machine ls (no machines) {shim:5.3f} s, python -c pass {bare:5.3f} s: "
        f"ratio {shim / bare:.1f}"
    )


def run_build(client: docker.DockerClient) -> float:
    from dojo_exec.machines.base_image import build_recipe, ensure_base_image
    from dojo_exec.machines.node_image import DEFAULT_SUITE, NODE_RECIPE

    base = ensure_base_image(client, DEFAULT_SUITE, log=quiet)
    nonce = uuid.uuid4().hex[:8]
    tag = f"dojo-node:bench-{nonce}"
    with tempfile.TemporaryDirectory() as tmp:
        recipe = Path(tmp) / "node"
        shutil.copytree(NODE_RECIPE, recipe)
        dockerfile = recipe / "Dockerfile"
        lines = dockerfile.read_text().splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("FROM")) + 1
        lines.insert(at, f"ARG DOJO_BENCH_NONCE={nonce}")
        dockerfile.write_text("\n".join(lines) + "\n")
        start = time.monotonic()
        build_recipe(client, recipe, tag, buildargs={"BASE": base}, log=quiet)
        seconds = time.monotonic() - start
    client.images.remove(tag, force=True)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cli", action="store_true", help="also time the workshop's commands")
    parser.add_argument("--build", action="store_true", help="also time a node image build")
    parser.add_argument("--shim-only", action="store_true", help="only the shim's start-up")
    parser.add_argument("--no-qemu", action="store_true", help="not the qemu provider")
    parser.add_argument("--qemu-only", action="store_true", help="only the qemu provider")
    args = parser.parse_args()
    if args.shim_only:
        with tempfile.TemporaryDirectory(prefix="dojo-bench-") as tmp:
            print_shim(Path(tmp))
        return 0
    if args.qemu_only:
        with tempfile.TemporaryDirectory(prefix="dojo-bench-") as tmp:
            print_qemu(Path(tmp))
        return 0
    client = docker.from_env()
    print(f"engine {client.version()['Version']}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="dojo-bench-") as tmp:
        root = Path(tmp)
        print_shim(root)
        runs = [run_api(client, root) for _ in range(args.runs)]
        for key in ("machines", "swarm", "teardown"):
            values = [r[key] for r in runs]
            print(
                f"api  {key:9} median {statistics.median(values):5.2f} s  "
                f"min {min(values):5.2f} s  max {max(values):5.2f} s"
            )
        swarm = statistics.median(r["swarm"] for r in runs)
        print(f"api  3-node TLS swarm: {swarm:.2f} s = {swarm / 10:.0%} of the 10 s goal")
        memory = statistics.median(r["memory"] for r in runs)
        print(f"api  memory/machine {memory / 2**20:5.0f} MiB (node container cgroup usage)")
        if args.cli:
            cli_runs = [run_cli(client, root) for _ in range(args.runs)]
            for key in ("swarm", "teardown"):
                values = [r[key] for r in cli_runs]
                print(
                    f"cli  {key:9} median {statistics.median(values):5.2f} s  "
                    f"min {min(values):5.2f} s  max {max(values):5.2f} s"
                )
            ratio = statistics.median(r["swarm"] for r in cli_runs) / swarm
            print(f"cli/api swarm ratio: {ratio:.2f}")
    if args.build:
        print(f"node image build (base present, no cache): {run_build(client):.1f} s")
    if not args.no_qemu and shutil.which("qemu-system-x86_64"):
        with tempfile.TemporaryDirectory(prefix="dojo-bench-") as tmp:
            print_qemu(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
