"""Identity keys on disk: a site's private Ed25519 key and the roster of public keys it
trusts, by site name. Written by whoever provisions the sites (the simulation launcher;
the deployment CA tooling), read by each site; never sent by the coordinator."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from privacy.atomic import atomic_write_text
from privacy.secagg.errors import SecAggError
from privacy.secagg.identity import IdentityKey


def new_identities(sites: Sequence[str]) -> tuple[dict[str, str], str]:
    """A fresh identity key per site (the text of its key file) and the roster's text."""
    keys = {site: IdentityKey.generate() for site in sites}
    roster = json.dumps({s: k.public_bytes.hex() for s, k in keys.items()}, indent=2)
    return {site: key.private_bytes().hex() for site, key in keys.items()}, roster


def write_identities(sites: Sequence[str], folder: Path) -> tuple[dict[str, Path], Path]:
    """One fresh identity key file per site (mode 0600) and the shared roster file."""
    folder.mkdir(parents=True, exist_ok=True)
    keys, roster_text = new_identities(sites)
    paths = {}
    for site, text in keys.items():
        paths[site] = folder / f"{site}.identity"
        atomic_write_text(paths[site], text)
    roster = folder / "roster.json"
    atomic_write_text(roster, roster_text)
    return paths, roster


def load_identity(path: str | os.PathLike[str] | None) -> IdentityKey:
    """The site's own identity key."""
    if path is None:
        raise SecAggError("secure aggregation needs the site's identity key; set identity-key "
                          "in the site's settings")
    try:
        return IdentityKey.from_private_bytes(bytes.fromhex(Path(path).read_text().strip()))
    except (OSError, ValueError) as err:
        raise SecAggError(f"cannot read the identity key {path}: {err}") from err


def load_roster(path: str | os.PathLike[str] | None) -> dict[str, bytes]:
    """Site name -> identity public key the site trusts."""
    if path is None:
        raise SecAggError("secure aggregation needs a roster of trusted identity keys; set "
                          "roster in the site's settings")
    try:
        roster = json.loads(Path(path).read_text())
        return {site: bytes.fromhex(key) for site, key in roster.items()}
    except (OSError, ValueError, AttributeError) as err:
        raise SecAggError(f"cannot read the identity roster {path}: {err}") from err
