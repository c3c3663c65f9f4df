"""The node image: tags follow the recipe, the entrypoint maps DOJO_* to dockerd, engines run."""

from __future__ import annotations

import datetime
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import docker.tls
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dojo_exec.machines.node_image import (
    DEFAULT_SUITE,
    ENGINES,
    NODE_RECIPE,
    dind_run_options,
    ensure_node_image,
    node_image_tag,
)

SUITE = os.environ.get("DOJO_TEST_SUITE", DEFAULT_SUITE)


def quiet(_: str) -> None:
    """Silence build progress in tests."""


@pytest.fixture(scope="module")
def node_image(client: docker.DockerClient) -> str:
    return ensure_node_image(client, SUITE, log=quiet)


# -- tags ------------------------------------------------------------------------------------------


def test_tag_names_suite_and_recipe_hash() -> None:
    tag = node_image_tag("bookworm")
    repository, _, version = tag.partition(":")
    assert repository == "dojo-node"
    assert version.startswith("bookworm-") and len(version) == len("bookworm-") + 12
    assert node_image_tag("trixie") != tag
    assert node_image_tag("bookworm", "dind").startswith("dojo-node:dind-")
    with pytest.raises(ValueError, match="unknown node image source"):
        node_image_tag("bookworm", "qemu")


@pytest.mark.parametrize("changed", ["Dockerfile", "dojo-node-entrypoint"])
def test_tag_changes_when_a_recipe_file_changes(tmp_path: Path, changed: str) -> None:
    recipe = tmp_path / "node"
    shutil.copytree(NODE_RECIPE, recipe)
    before = node_image_tag("bookworm", recipe_dir=recipe)
    assert before == node_image_tag("bookworm")  # a copy is the same recipe
    with (recipe / changed).open("a") as file:
        file.write("\n# changed\n")
    assert node_image_tag("bookworm", recipe_dir=recipe) != before
    (recipe / "README").write_text("not part of the recipe")
    assert node_image_tag("bookworm", "dind", recipe_dir=recipe) == node_image_tag(
        "bookworm", "dind", recipe_dir=recipe
    )


def test_run_options_per_cgroup_version() -> None:
    v1 = dind_run_options("1")
    assert "privileged" not in v1
    assert v1["cap_drop"] == ["SYS_RESOURCE"]
    assert v1["volumes"]["/sys/fs/cgroup"]["mode"] == "rw"
    assert dind_run_options("2") == {"privileged": True, "cgroupns": "private"}


# -- the entrypoint's contract, with a stand-in dockerd that prints its arguments ----------------

FAKE_DOCKERD = 'printf "#!/bin/sh\\necho ARGS \\"\\$*\\"\\n" > /usr/local/sbin/dockerd; '


def entrypoint_args(client: docker.DockerClient, image: str, env: dict[str, str]) -> str:
    script = FAKE_DOCKERD + "chmod +x /usr/local/sbin/dockerd; exec dojo-node-entrypoint --debug-x"
    container = client.containers.create(
        image,
        ["-c", script],
        entrypoint=["/bin/sh"],
        environment=env,
        labels={"dojo.managed": "1", "dojo.role": "test"},
    )
    try:
        container.start()
        status = container.wait(timeout=30)["StatusCode"]
        out = container.logs(stdout=True, stderr=True)
    finally:
        container.remove(v=True, force=True)  # the image declares VOLUME /var/lib/docker
    if status != 0:
        return f"EXIT {status} {out!r}"
    lines = [line for line in bytes(out).decode().splitlines() if line.startswith("ARGS ")]
    assert len(lines) == 1, out
    return lines[0].removeprefix("ARGS ")


@pytest.mark.docker
def test_entrypoint_defaults(client: docker.DockerClient, node_image: str) -> None:
    args = entrypoint_args(client, node_image, {})
    assert "-H unix:///var/run/docker.sock" in args
    assert "--shutdown-timeout 2" in args
    assert "tcp://" not in args and "--cgroup-parent" not in args
    assert args.endswith("--debug-x")  # container arguments go last


@pytest.mark.docker
def test_entrypoint_maps_the_environment(client: docker.DockerClient, node_image: str) -> None:
    args = entrypoint_args(
        client,
        node_image,
        {
            "DOJO_CGROUP_PARENT": "/dojo-x-m1",
            "DOJO_REGISTRY_MIRROR": "http://dojo-mirror:5000",
            "DOJO_ENGINE_LABELS": "provider=dojo role=test",
            "DOJO_DOCKERD_ARGS": "--max-concurrent-downloads 5",
        },
    )
    assert "--cgroup-parent /dojo-x-m1" in args
    assert "--registry-mirror http://dojo-mirror:5000" in args
    assert "--insecure-registry dojo-mirror:5000" in args
    assert "--label provider=dojo" in args and "--label role=test" in args
    assert "--max-concurrent-downloads 5" in args


@pytest.mark.docker
def test_entrypoint_tls_needs_its_certificates(
    client: docker.DockerClient, node_image: str
) -> None:
    assert entrypoint_args(client, node_image, {"DOJO_TLS": "1"}).startswith("EXIT 64")
    https = entrypoint_args(client, node_image, {"DOJO_REGISTRY_MIRROR": "https://m.example:443"})
    assert "--insecure-registry" not in https


# -- a real node -------------------------------------------------------------------------------


def _pem(obj: object) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    assert isinstance(obj, ec.EllipticCurvePrivateKey)
    return obj.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def make_certs(directory: Path) -> None:
    """ca.pem, server.pem/server-key.pem (127.0.0.1, localhost), cert.pem/key.pem (client)."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(
        name: str,
        key: ec.EllipticCurvePrivateKey,
        issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
        usage: x509.ObjectIdentifier | None = None,
        sans: list[x509.GeneralName] | None = None,
    ) -> x509.Certificate:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        issuer_name, issuer_key = issuer or (subject, key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), True)
        )
        if usage is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), False)
        if sans is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), False)
        return builder.sign(issuer_key, hashes.SHA256())

    import ipaddress

    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = cert("dojo-test-ca", ca_key, None)
    sans: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    server = cert(
        "node", server_key, (ca.subject, ca_key), usage=ExtendedKeyUsageOID.SERVER_AUTH, sans=sans
    )
    client = cert("client", client_key, (ca.subject, ca_key), usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    for name, obj in {
        "ca.pem": ca,
        "server.pem": server,
        "server-key.pem": server_key,
        "cert.pem": client,
        "key.pem": client_key,
    }.items():
        (directory / name).write_bytes(_pem(obj))


def wait_for_engine(container: docker.models.containers.Container, timeout: float = 60) -> str:
    """Server version reported by ``docker version`` inside the node, once its engine answers."""
    deadline = time.monotonic() + timeout
    while True:
        code, out = container.exec_run(["docker", "version", "--format", "{{.Server.Version}}"])
        if code == 0:
            return bytes(out).decode().strip()
        container.reload()
        if container.status != "running" or time.monotonic() > deadline:
            logs = container.logs(tail=30).decode(errors="replace")
            pytest.fail(f"inner engine did not answer ({container.status}):\n{logs}")
        time.sleep(0.2)


def start_node(
    client: docker.DockerClient,
    image: str,
    name: str,
    *,
    labels: dict[str, str],
    volumes: dict[str, dict[str, str]],
    environment: dict[str, str],
    ports: dict[str, tuple[str, None]] | None = None,
    network: str | None = None,
) -> docker.models.containers.Container:
    """Start a node as the driver does (cgroup v1: no --privileged; ``systempaths=unconfined`` is
    a CLI option that becomes empty MaskedPaths/ReadonlyPaths in the API)."""
    cgroup_version = str(client.info().get("CgroupVersion", "1"))
    options = dind_run_options(cgroup_version)
    env = dict(environment)
    if cgroup_version == "2":
        env["DOJO_CGROUP_V2"] = "1"
    else:
        env["DOJO_CGROUP_PARENT"] = f"/{name}"
    security = [o for o in options.pop("security_opt", []) if o != "systempaths=unconfined"]
    binds = {**options.pop("volumes", {}), **volumes}
    host_config = client.api.create_host_config(
        binds=binds,
        port_bindings={k.split("/")[0]: v for k, v in (ports or {}).items()},
        security_opt=security or None,
        network_mode=network,
        **options,
    )
    if not options.get("privileged"):
        host_config["MaskedPaths"] = []
        host_config["ReadonlyPaths"] = []
    created = client.api.create_container(
        image,
        name=name,
        hostname="manager1",
        labels=labels,
        environment=env,
        ports=[int(k.split("/")[0]) for k in (ports or {})],
        host_config=host_config,
    )
    container = client.containers.get(created["Id"])
    try:
        container.start()
    except docker.errors.APIError:
        container.remove(force=True)
        raise
    return container


@pytest.fixture(scope="module")
def node(
    client: docker.DockerClient, node_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[docker.models.containers.Container, Path]]:
    """One TLS node started the way the driver does it."""
    name = f"dojo-test-node-{uuid.uuid4().hex[:8]}"
    certs = tmp_path_factory.mktemp("certs")
    make_certs(certs)
    labels = {"dojo.managed": "1", "dojo.role": "test"}
    volume = client.volumes.create(f"{name}-docker", labels=labels)
    container = None
    try:
        container = start_node(
            client,
            node_image,
            name,
            labels=labels,
            volumes={
                volume.name: {"bind": "/var/lib/docker", "mode": "rw"},
                str(certs): {"bind": "/etc/docker/tls", "mode": "ro"},
            },
            environment={"DOJO_TLS": "1"},
            ports={"2376/tcp": ("127.0.0.1", None)},
        )
        yield container, certs
    finally:
        if container is not None:
            container.remove(force=True)
        volume.remove(force=True)


@pytest.mark.docker
def test_node_starts_its_engine(node: tuple[docker.models.containers.Container, Path]) -> None:
    container, _ = node
    started = time.monotonic()
    version = wait_for_engine(container)
    assert version.startswith(ENGINES[SUITE]), version
    assert time.monotonic() - started < 30
    code, out = container.exec_run(["docker", "info", "--format", "{{.Name}}"])
    assert (code, bytes(out).decode().strip()) == (0, "manager1")
    code, out = container.exec_run(["ps", "-o", "comm=", "-p", "1"])
    assert bytes(out).decode().strip() == "tini"


@pytest.mark.docker
def test_node_serves_tls(
    node: tuple[docker.models.containers.Container, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override the client CA (psf/requests#3829)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    container, certs = node
    wait_for_engine(container)
    container.reload()
    port = container.attrs["NetworkSettings"]["Ports"]["2376/tcp"][0]["HostPort"]
    tls = docker.tls.TLSConfig(
        client_cert=(str(certs / "cert.pem"), str(certs / "key.pem")),
        ca_cert=str(certs / "ca.pem"),
        verify=True,
    )
    remote = docker.DockerClient(base_url=f"https://127.0.0.1:{port}", tls=tls, timeout=10)
    assert remote.version()["Version"].startswith(ENGINES[SUITE])
    with pytest.raises(docker.errors.DockerException, match="CERTIFICATE_VERIFY_FAILED"):
        # no client certificate, system CAs only: the node's CA is not trusted
        docker.DockerClient(base_url=f"https://127.0.0.1:{port}", tls=True, timeout=5).version()


@pytest.mark.docker
def test_node_restarts_cleanly(node: tuple[docker.models.containers.Container, Path]) -> None:
    """A stopped machine starts again (stale pid files removed) and stops fast (tini + dockerd)."""
    container, _ = node
    wait_for_engine(container)
    started = time.monotonic()
    container.stop(timeout=20)
    assert time.monotonic() - started < 8
    container.start()
    assert wait_for_engine(container).startswith(ENGINES[SUITE])


@pytest.mark.docker
def test_dind_source_needs_a_registry(client: docker.DockerClient) -> None:
    from dojo_exec.machines.mirror import registry_reachable

    if registry_reachable(client):
        pytest.skip("a registry is reachable here: building FROM docker:dind would work")
    with pytest.raises(RuntimeError, match="use source='debian'"):
        ensure_node_image(client, source="dind", log=quiet)
