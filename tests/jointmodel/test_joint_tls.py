"""The host over HTTPS: a guest trusting the certificate's CA runs a job; one trusting nothing is refused."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jinyu.jointmodel import guest
from jinyu.jointmodel.errors import PartyUnreachable
from jinyu.jointmodel.party import PartyDir
from tests.jointmodel.conftest import Parties, start_host


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "hub.crt", directory / "hub.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def test_a_job_over_https(parties: Parties) -> None:
    cert, key = _self_signed(parties.root)
    parties.job("t1", psi="size")
    node = start_host(parties.hub, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert node.url.startswith("https://127.0.0.1:")
        with pytest.raises(PartyUnreachable):
            guest.run(PartyDir(parties.bank), "t1", node.url)  # the self-signed CA is not trusted by default
        state = guest.run(PartyDir(parties.bank), "t1", node.url, ca_file=cert)
    finally:
        node.kill()
    assert state["metrics"]["intersection_size"] == 1000
