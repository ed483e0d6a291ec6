"""The Flower app privfl runs, as a folder, and the digest a site pins it by.

A privfl app holds no code: its ``pyproject.toml`` names the ServerApp and ClientApp
components (resolved from the privfl installed where each side runs) and carries the
flattened run config as defaults. Flower ships it to the sites as a FAB (a zip). A
deployed site pins the app by :func:`app_digest`: the SHA-256 over every file of the FAB
with the run config left out (the site checks the run config itself), so a FAB that names
other components or carries code of its own (which Flower would put first on the
ClientApp's ``sys.path``) has another digest and is refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import tomli_w

SERVER_APP = "server.app:app"
CLIENT_APP = "client.app:app"
APP_NAME = "privfl-run"
FAB_MANIFEST = ".info/CONTENT"  # Flower's list of the FAB's files: derived, not hashed


def app_project(run_config: dict, server_app: str = SERVER_APP,
                client_app: str = CLIENT_APP) -> dict:
    """The app's ``pyproject.toml`` as a dict."""
    return {
        "project": {"name": APP_NAME, "version": version("privfl"),
                    "description": "privfl experiment", "license": "Apache-2.0"},
        "tool": {"flwr": {"app": {
            "publisher": "privfl",
            "components": {"serverapp": server_app, "clientapp": client_app},
            "config": run_config,
        }}},
    }


def write_app_dir(folder: Path, run_config: dict, server_app: str = SERVER_APP,
                  client_app: str = CLIENT_APP) -> Path:
    """A Flower app directory: components plus the run config as its defaults."""
    folder.mkdir(parents=True, exist_ok=True)
    project = app_project(run_config, server_app, client_app)
    (folder / "pyproject.toml").write_text(tomli_w.dumps(project))
    return folder


def app_digest(fab: bytes) -> str:
    """SHA-256 (hex) of a FAB's files, its run config excluded; ValueError if not a FAB."""
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(fab)) as archive:
        for name in archive.namelist():
            if name != FAB_MANIFEST:
                files[name] = archive.read(name)
    if "pyproject.toml" not in files:
        raise ValueError("the FAB has no pyproject.toml")
    files["pyproject.toml"] = _without_run_config(files["pyproject.toml"])
    return _digest(files)


def expected_app_digest() -> str:
    """The digest of the privfl app as the installed privfl builds it (what a site pins)."""
    project = app_project({})
    return _digest({"pyproject.toml": _without_run_config(tomli_w.dumps(project).encode())})


def _without_run_config(pyproject: bytes) -> bytes:
    project = tomllib.loads(pyproject.decode("utf-8"))
    project.get("tool", {}).get("flwr", {}).get("app", {}).pop("config", None)
    return json.dumps(project, sort_keys=True, separators=(",", ":")).encode()


def _digest(files: dict[str, bytes]) -> str:
    outer = hashlib.sha256()
    for name in sorted(files):
        outer.update(json.dumps([name, hashlib.sha256(files[name]).hexdigest()]).encode())
    return outer.hexdigest()
