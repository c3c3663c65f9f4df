"""TLS material in docker-machine's layout: a CA, a client certificate, a server cert per machine.

Keys are EC P-256, not docker-machine's RSA 2048: generating one takes ~0.1 ms instead of ~35 ms
(measured here), a swarm needs four of them, and Go's crypto/tls (dockerd, the docker CLI) and
Python's ``ssl`` (docker-py) accept them alike.  The file names and roles are docker-machine's, so
``DOCKER_CERT_PATH`` pointing at a machine directory works with any Docker client.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import ipaddress
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dojo_exec.writing import write_atomically

VALIDITY = dt.timedelta(days=1080)  # docker-machine's validity period
CA_FILES = ("ca.pem", "ca-key.pem", "cert.pem", "key.pem")


@dataclass(frozen=True)
class Pair:
    """A PEM certificate and its PEM private key."""

    cert: bytes
    key: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _name(org: str, common_name: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if common_name:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)  # tolerate clock skew
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
    )


def make_ca(org: str | None = None) -> Pair:
    """A self-signed CA that may sign certificates (and nothing below them)."""
    org = org or _org()
    key = _key()
    name = _name(org, f"{org} dojo CA")
    cert = (
        _builder(name, name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Pair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def make_cert(
    ca: Pair,
    *,
    server: bool,
    common_name: str,
    ips: Iterable[str] = (),
    dns_names: Iterable[str] = (),
    org: str | None = None,
) -> Pair:
    """A certificate signed by ``ca``: serverAuth with SANs, or clientAuth."""
    org = org or _org()
    ca_cert = x509.load_pem_x509_certificate(ca.cert)
    ca_key = serialization.load_pem_private_key(ca.key, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = _key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        _builder(_name(org, common_name), ca_cert.subject, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if server:
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dict.fromkeys(dns_names)]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in dict.fromkeys(ips)]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return Pair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def server_sans(name: str, ip: str) -> tuple[list[str], list[str]]:
    """The (IPs, DNS names) a machine's server cert is valid for."""
    return [ip, "127.0.0.1"], [name, "localhost"]


def _org() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "dojo"


def _write(path: Path, data: bytes, private: bool = False) -> None:
    write_atomically(path, data, mode=0o600 if private else 0o644)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if needed) for the block's duration."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_ca(certs_dir: Path) -> tuple[Pair, Pair]:
    """CA and client pair in ``certs_dir`` (ca.pem, ca-key.pem, cert.pem, key.pem), made once.

    Safe against concurrent ``create`` processes: the first one makes them under a lock.
    """
    certs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths = [certs_dir / f for f in CA_FILES]
    if not all(p.exists() for p in paths):
        with file_lock(certs_dir / ".lock"):
            if not (certs_dir / "ca.pem").exists() or not (certs_dir / "ca-key.pem").exists():
                ca = make_ca()
                _write(certs_dir / "ca-key.pem", ca.key, private=True)
                _write(certs_dir / "ca.pem", ca.cert)
                for stale in ("cert.pem", "key.pem"):  # signed by another CA: remake
                    (certs_dir / stale).unlink(missing_ok=True)
            ca = Pair((certs_dir / "ca.pem").read_bytes(), (certs_dir / "ca-key.pem").read_bytes())
            if not (certs_dir / "cert.pem").exists() or not (certs_dir / "key.pem").exists():
                client = make_cert(ca, server=False, common_name="client")
                _write(certs_dir / "key.pem", client.key, private=True)
                _write(certs_dir / "cert.pem", client.cert)
    ca = Pair((certs_dir / "ca.pem").read_bytes(), (certs_dir / "ca-key.pem").read_bytes())
    client = Pair((certs_dir / "cert.pem").read_bytes(), (certs_dir / "key.pem").read_bytes())
    return ca, client


def write_machine_certs(
    certs_dir: Path, machine_dir: Path, name: str, ip: str, extra_ips: Iterable[str] = ()
) -> Pair:
    """Write ca.pem, cert.pem, key.pem, server.pem, server-key.pem into ``machine_dir``.

    Returns the server pair (to be copied into the node at /etc/docker/tls). ``extra_ips``:
    more addresses the engine is reached at (a VM's forwarded loopback address).
    """
    ca, client = ensure_ca(certs_dir)
    ips, dns = server_sans(name, ip)
    ips += list(extra_ips)
    server = make_cert(ca, server=True, common_name=name, ips=ips, dns_names=dns)
    machine_dir.mkdir(parents=True, exist_ok=True)
    _write(machine_dir / "ca.pem", ca.cert)
    _write(machine_dir / "cert.pem", client.cert)
    _write(machine_dir / "key.pem", client.key, private=True)
    _write(machine_dir / "server.pem", server.cert)
    _write(machine_dir / "server-key.pem", server.key, private=True)
    return server
