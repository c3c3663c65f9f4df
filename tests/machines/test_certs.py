"""TLS material: the CA signs server and client certs; a real TLS handshake verifies both ways."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from dojo_exec.machines import certs


def _load(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def test_ca_signs_server_and_client() -> None:
    ca = certs.make_ca("dojo")
    server = certs.make_cert(
        ca, server=True, common_name="manager1", ips=["10.1.2.3"], dns_names=["manager1"]
    )
    client = certs.make_cert(ca, server=False, common_name="client")
    ca_cert = _load(ca.cert)
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for pair, usage in (
        (server, ExtendedKeyUsageOID.SERVER_AUTH),
        (client, ExtendedKeyUsageOID.CLIENT_AUTH),
    ):
        cert = _load(pair.cert)
        assert cert.issuer == ca_cert.subject
        cert.verify_directly_issued_by(ca_cert)
        assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [usage]


def test_server_cert_sans_include_ip_name_and_localhost(tmp_path: Path) -> None:
    server = certs.write_machine_certs(tmp_path / "certs", tmp_path / "m", "worker1", "10.213.0.7")
    sans = _load(server.cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("10.213.0.7") in sans.get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    assert {"worker1", "localhost"} <= set(sans.get_values_for_type(x509.DNSName))


def test_layout_is_docker_machines(tmp_path: Path) -> None:
    certs.write_machine_certs(tmp_path / "certs", tmp_path / "machines" / "m1", "m1", "10.0.0.2")
    assert sorted(p.name for p in (tmp_path / "certs").glob("*.pem")) == [
        "ca-key.pem",
        "ca.pem",
        "cert.pem",
        "key.pem",
    ]
    machine = tmp_path / "machines" / "m1"
    assert sorted(p.name for p in machine.glob("*.pem")) == [
        "ca.pem",
        "cert.pem",
        "key.pem",
        "server-key.pem",
        "server.pem",
    ]
    assert (machine / "ca.pem").read_bytes() == (tmp_path / "certs" / "ca.pem").read_bytes()
    assert (machine / "key.pem").stat().st_mode & 0o077 == 0
    assert (tmp_path / "certs" / "ca-key.pem").stat().st_mode & 0o077 == 0


def test_ca_is_made_once(tmp_path: Path) -> None:
    first, _ = certs.ensure_ca(tmp_path)
    second, _ = certs.ensure_ca(tmp_path)
    assert first == second


def test_tls_handshake_verifies_both_ways(tmp_path: Path) -> None:
    certs.write_machine_certs(tmp_path / "certs", tmp_path / "m", "m1", "127.0.0.1")
    d = tmp_path / "m"
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(d / "ca.pem"))
    server_ctx.load_cert_chain(d / "server.pem", d / "server-key.pem")
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cafile=str(d / "ca.pem"))
    client_ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    seen: list[object] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            seen.append(tls.getpeercert())
            tls.sendall(tls.recv(5))

    thread = threading.Thread(target=serve)
    thread.start()
    for host in ("127.0.0.1", "localhost"):
        if host == "localhost":
            thread = threading.Thread(target=serve)
            thread.start()
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            client_ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            tls.sendall(b"hello")
            assert tls.recv(5) == b"hello"
        thread.join(5)
    listener.close()
    assert len(seen) == 2 and all(seen)


def test_handshake_fails_for_foreign_ca(tmp_path: Path) -> None:
    certs.write_machine_certs(tmp_path / "a", tmp_path / "ma", "m1", "127.0.0.1")
    certs.write_machine_certs(tmp_path / "b", tmp_path / "mb", "m1", "127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tmp_path / "ma" / "server.pem", tmp_path / "ma" / "server-key.pem")
    client_ctx = ssl.create_default_context(cafile=str(tmp_path / "mb" / "ca.pem"))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with contextlib.suppress(ssl.SSLError, OSError):
            server_ctx.wrap_socket(conn, server_side=True).close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", port)) as raw:
            try:
                client_ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            except ssl.SSLCertVerificationError:
                pass
            else:
                raise AssertionError("a server cert of another CA was accepted")
    finally:
        thread.join(5)
        listener.close()
