"""``privfl certs``: a CA, the SuperLink's certificate with the requested SANs, one key
bundle per site; private keys 0600; nothing overwritten without force=true."""

from __future__ import annotations

import ipaddress
import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    load_pem_private_key,
    load_ssh_private_key,
    load_ssh_public_key,
)

from conf.deploy_schema import CertsConfig
from conf.errors import ConfigError
from privacy.secagg.roster import load_identity, load_roster
from privfl.cli import main
from server.deployment.certs import write_certs

HOSTS = ("coordinator.example", "127.0.0.1")


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    write_certs(CertsConfig(out=str(tmp_path / "certs"), sites=3, hosts=HOSTS))
    return tmp_path / "certs"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_keys_are_0600_and_public_files_0644(certs: Path) -> None:
    private = {"ca.key", "server.key", "auth.key", "identity.key"}
    files = [p for p in certs.rglob("*") if p.is_file()]
    assert len(files) == 4 + 3 * 6
    for path in files:
        assert _mode(path) == (0o600 if path.name in private else 0o644), path


def test_superlink_certificate_is_signed_by_the_ca_for_the_hosts(certs: Path) -> None:
    ca = x509.load_pem_x509_certificate((certs / "ca.crt").read_bytes())
    server = x509.load_pem_x509_certificate((certs / "superlink" / "server.crt").read_bytes())
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["coordinator.example"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    key = load_pem_private_key((certs / "superlink" / "server.key").read_bytes(), None)
    assert key.public_key() == server.public_key()


def test_each_site_bundle_holds_its_keys_and_the_shared_roster(certs: Path) -> None:
    roster = load_roster(certs / "sites" / "site-0" / "roster.json")
    assert sorted(roster) == ["site-0", "site-1", "site-2"]
    for i in range(3):
        bundle = certs / "sites" / f"site-{i}"
        auth = load_ssh_private_key((bundle / "auth.key").read_bytes(), None)
        assert isinstance(auth, ec.EllipticCurvePrivateKey) and auth.curve.name == "secp384r1"
        registered = load_ssh_public_key(
            (certs / "superlink" / "site-keys" / f"site-{i}.pub").read_bytes())
        assert registered == auth.public_key()
        assert load_identity(bundle / "identity.key").public_bytes == roster[f"site-{i}"]
        assert (bundle / "ca.crt").read_bytes() == (certs / "ca.crt").read_bytes()
    assert json.loads((certs / "sites" / "site-1" / "roster.json").read_text()) == {
        site: key.hex() for site, key in roster.items()}


def test_existing_files_are_kept_without_force(certs: Path) -> None:
    before = (certs / "ca.key").read_bytes()
    with pytest.raises(ConfigError, match=r"already exists.*force=true"):
        write_certs(CertsConfig(out=str(certs), sites=3, hosts=HOSTS))
    assert (certs / "ca.key").read_bytes() == before
    write_certs(CertsConfig(out=str(certs), sites=3, hosts=HOSTS, force=True))
    assert (certs / "ca.key").read_bytes() != before


def test_cli_takes_hydra_style_lists_and_reports_errors_in_one_line(tmp_path, capsys) -> None:
    out = tmp_path / "c"
    assert main(["certs", f"out={out}", "sites=2", "hosts=[a.example,10.0.0.1]"]) == 0
    assert (out / "sites" / "site-1" / "auth.key").exists()
    assert main(["certs", f"out={out}", "sites=2"]) == 2
    assert main(["certs", f"out={tmp_path / 'd'}", "colour=red"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("privfl: error:") and "force=true" in err[0]
    assert err[1] == ("privfl: error: colour: unknown key; allowed keys are out, sites, "
                      "hosts, days, force")
