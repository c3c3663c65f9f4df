"""An embedded node's Docker API answers only a client with its cluster's certificate.

One machine is made with the ``docker-machine`` shim in a real shell, as a reader makes it; its
engine listens on ``tcp://IP:2376`` with ``--tlsverify``.  From the host, the test asks the API
for ``/version`` in every way but the right one and shows each is refused (no API answer):

* plain HTTP on 2376, and plain HTTP on 2375 (Docker's unencrypted port: nothing listens);
* TLS without a client certificate;
* TLS with a client certificate of another cluster: another store's CA in docker-machine's
  layout (what a second cluster has), and a CA made with the same name as this one's.

The right client certificate is answered (the control: the refusals are not a dead engine).
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from engine import engine_or_skip

from dojo_exec.machines import certs
from dojo_exec.machines.cli import install_shim
from dojo_exec.machines.teardown import remove_run

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("tls-refusals")]
REQUEST = b"GET /version HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
REFUSALS: list[str] = []


@dataclass(frozen=True)
class Node:
    ip: str
    machine_dir: Path  # ca.pem, cert.pem, key.pem of this cluster's client


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    client = engine_or_skip()
    root = tmp_path_factory.mktemp("tls")
    run = f"h4-tls-{uuid.uuid4().hex[:6]}"
    install_shim(root / "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(
        PATH=f"{root / 'bin'}{os.pathsep}{env['PATH']}",
        DOJO_CLUSTER=f"t-{uuid.uuid4().hex[:8]}",
        DOJO_RUN=run,
        MACHINE_STORAGE_PATH=str(root / "machine"),
    )

    def sh(line: str) -> str:
        done = subprocess.run(
            ["bash", "-c", line],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    try:
        sh("docker-machine create --driver virtualbox node1")
        yield Node(sh("docker-machine ip node1").strip(), root / "machine" / "machines" / "node1")
    finally:
        remove_run(client, run)
        if (root / "machine").exists():
            shutil.rmtree(root / "machine", ignore_errors=True)


def _tls(node: Node, cert: tuple[Path, Path] | None, port: int = 2376) -> tuple[bytes, str | None]:
    """``GET /version`` over TLS (server verified by the cluster's CA): (answer, error)."""
    context = ssl.create_default_context(cafile=str(node.machine_dir / "ca.pem"))
    context.check_hostname = False  # the certificate names the IP; verified by the CA anyway
    if cert is not None:
        context.load_cert_chain(str(cert[0]), str(cert[1]))
    answer = b""
    try:
        with (
            socket.create_connection((node.ip, port), timeout=10) as raw,
            context.wrap_socket(raw) as tls,
        ):
            tls.sendall(REQUEST)
            while chunk := tls.recv(65536):
                answer += chunk
    except (ssl.SSLError, OSError) as error:
        return answer, f"{type(error).__name__}: {error}"
    return answer, None


def _plain(node: Node, port: int) -> tuple[bytes, str | None]:
    answer = b""
    try:
        with socket.create_connection((node.ip, port), timeout=10) as raw:
            raw.sendall(REQUEST)
            while chunk := raw.recv(65536):
                answer += chunk
    except OSError as error:
        return answer, f"{type(error).__name__}: {error}"
    return answer, None


def _refused(what: str, answer: bytes, error: str | None) -> None:
    assert b"ApiVersion" not in answer, f"{what}: the API answered:\n{answer.decode()[:500]}"
    assert error is not None or not answer.startswith(b"HTTP/1.1 200"), answer[:200]
    REFUSALS.append(f"{what}: {error or answer.decode(errors='replace').splitlines()[0]}")


def _foreign(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A client certificate of another cluster: another store's CA, docker-machine's layout."""
    certs.write_machine_certs(tmp_path / name / "certs", tmp_path / name / "m", "node1", "10.0.0.9")
    return tmp_path / name / "m" / "cert.pem", tmp_path / name / "m" / "key.pem"


def test_the_clusters_client_certificate_is_answered(node: Node) -> None:
    answer, error = _tls(node, (node.machine_dir / "cert.pem", node.machine_dir / "key.pem"))
    assert error is None, error
    assert answer.startswith(b"HTTP/1.1 200") and b"ApiVersion" in answer, answer[:300]


def test_plain_http_is_refused(node: Node) -> None:
    _refused("plain HTTP on 2376", *_plain(node, 2376))
    answer, error = _plain(node, 2375)
    assert error is not None and "Connection refused" in error, (answer[:200], error)
    _refused("plain HTTP on 2375", answer, error)


def test_tls_without_a_client_certificate_is_refused(node: Node) -> None:
    _refused("TLS without a client certificate", *_tls(node, None))


def test_a_certificate_of_another_cluster_is_refused(node: Node, tmp_path: Path) -> None:
    _refused("another cluster's client certificate", *_tls(node, _foreign(tmp_path, "other")))


def test_a_certificate_from_a_ca_of_the_same_name_is_refused(node: Node, tmp_path: Path) -> None:
    """Every cluster's CA has the same subject (docker-machine's): only its key tells them apart."""
    ours = x509.load_pem_x509_certificate((node.machine_dir / "ca.pem").read_bytes())
    twin = certs.make_ca()
    assert x509.load_pem_x509_certificate(twin.cert).subject == ours.subject
    client = certs.make_cert(twin, server=False, common_name="client")
    (tmp_path / "cert.pem").write_bytes(client.cert)
    (tmp_path / "key.pem").write_bytes(client.key)
    _refused(
        "a same-named CA's client certificate",
        *_tls(node, (tmp_path / "cert.pem", tmp_path / "key.pem")),
    )


@pytest.fixture(scope="module", autouse=True)
def _figure() -> Iterator[None]:
    yield
    if REFUSALS:
        print(f"\nTLS: {len(REFUSALS)} ways refused")
        for line in REFUSALS:
            print(f"  {line}")
