"""``privfl certs``: everything a deployment's parties need to trust each other.

Layout of the output folder (private keys mode 0600, nothing overwritten unless
``force=true``; every file is prepared in memory before the first one is written):

- ``ca.crt``, ``ca.key``: the deployment CA (the key stays with whoever runs this).
- ``superlink/server.crt``, ``superlink/server.key``: the SuperLink's TLS certificate,
  signed by the CA, with ``hosts`` as subject alternative names.
- ``superlink/site-keys/<site>.pub``: the sites' authentication public keys, which
  ``privfl deploy superlink`` registers.
- ``sites/<site>/``: the bundle one site receives: ``ca.crt``, ``auth.key``/``auth.pub``
  (ECDSA P-384, OpenSSH format, what ``flower-supernode`` authenticates with), its SecAgg
  identity key ``identity.key`` (Ed25519) and ``roster.json``, the identity public keys of
  every site of the deployment.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conf.deploy_schema import CertsConfig
from conf.errors import ConfigError
from privacy.atomic import atomic_write_bytes
from privacy.secagg.roster import new_identities

PRIVATE = 0o600
PUBLIC = 0o644


def site_names(count: int) -> list[str]:
    """The names ``privfl certs sites=N`` gives the sites."""
    return [f"site-{i}" for i in range(count)]


def write_certs(cfg: CertsConfig) -> dict[Path, int]:
    """Create every file of the deployment's trust material; returns path -> mode."""
    out = Path(cfg.out)
    files = _prepare(cfg, out)
    existing = [p for p in files if p.exists()]
    if existing and not cfg.force:
        raise ConfigError(f"{existing[0]} already exists (and {len(existing) - 1} more); "
                          "choose another out=... or pass force=true to replace them")
    for path, (data, mode) in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)  # created 0600
        os.chmod(path, mode)
    return {path: mode for path, (_, mode) in files.items()}


def _prepare(cfg: CertsConfig, out: Path) -> dict[Path, tuple[bytes, int]]:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "privfl deployment CA")])
    ca_cert = (_builder(ca_name, ca_name, ca_key.public_key(), now, cfg.days)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(_key_usage(ca=True), critical=True)
               .sign(ca_key, hashes.SHA384()))
    server_key = ec.generate_private_key(ec.SECP384R1())
    server_cert = (_builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cfg.hosts[0])]),
                            ca_name, server_key.public_key(), now, cfg.days)
                   .add_extension(x509.SubjectAlternativeName(_sans(cfg.hosts)), critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(_key_usage(ca=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                  critical=False)
                   .sign(ca_key, hashes.SHA384()))
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    files = {
        out / "ca.crt": (ca_pem, PUBLIC),
        out / "ca.key": (_pem_private(ca_key), PRIVATE),
        out / "superlink" / "server.crt": (server_cert.public_bytes(serialization.Encoding.PEM),
                                           PUBLIC),
        out / "superlink" / "server.key": (_pem_private(server_key), PRIVATE),
    }
    sites = site_names(cfg.sites)
    identities, roster = new_identities(sites)
    for site in sites:
        auth_key = ec.generate_private_key(ec.SECP384R1())
        auth_pub = auth_key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                      serialization.PublicFormat.OpenSSH)
        bundle = out / "sites" / site
        files[bundle / "ca.crt"] = (ca_pem, PUBLIC)
        files[bundle / "auth.key"] = (auth_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption()), PRIVATE)
        files[bundle / "auth.pub"] = (auth_pub + b"\n", PUBLIC)
        files[bundle / "identity.key"] = (identities[site].encode(), PRIVATE)
        files[bundle / "roster.json"] = (roster.encode(), PUBLIC)
        files[out / "superlink" / "site-keys" / f"{site}.pub"] = (auth_pub + b"\n", PUBLIC)
    return files


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
             now: datetime.datetime, days: int) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days)))


def _key_usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False,
                         decipher_only=False)


def _sans(hosts: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _pem_private(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
