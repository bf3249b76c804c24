"""Shared fixtures: the asyncio reactor, loopback portal servers, the sample archive and Datasette.

Modelled on Scrapy's own conftest (the reactor is installed before any test imports Twisted's default
one) and on Datasette's tests (an in-process `Datasette(...)` whose `client` talks ASGI, no socket).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crawler.demo.server import SiteServer

from .helpers_archive import build_sample_archive, datasette_server
from .helpers_shared import require_shared

PORTAL_FIXTURES = Path(__file__).parent / "fixtures" / "portals"
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def pytest_configure(config: pytest.Config) -> None:
    """Install Scrapy's default reactor first, so in-process components that need one share it."""
    from scrapy.utils.reactor import install_reactor, is_reactor_installed

    if not is_reactor_installed():
        install_reactor(ASYNCIO_REACTOR)


# ------------------------------------------------------------------ shared material (../shared)


@pytest.fixture
def seeds_dir() -> Path:
    """../shared/seeds: skipped when absent, failed when CI is set (helpers_shared.require_shared)."""
    return require_shared("seeds")


@pytest.fixture
def corpus_dir() -> Path:
    """../shared/corpus: skipped when absent, failed when CI is set (helpers_shared.require_shared)."""
    return require_shared("corpus")


# ------------------------------------------------------------------ loopback portals


@pytest.fixture(scope="session")
def site_server() -> Iterator[Callable[[Path], SiteServer]]:
    """Start a loopback `SiteServer` on a folder (each caller its own: variants are per folder)."""
    servers: list[SiteServer] = []

    def start(root: Path) -> SiteServer:
        server = SiteServer(root).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def portal_site(
    tmp_path_factory: pytest.TempPathFactory, site_server: Callable[[Path], SiteServer]
) -> SiteServer:
    """tests/fixtures/portals on loopback, read-only (never switch its variant); `nextpage` also answers
    as the default host, so `http://127.0.0.1:PORT/` is a small portal."""
    root = tmp_path_factory.mktemp("portal-site") / "site"
    shutil.copytree(PORTAL_FIXTURES, root)
    shutil.copytree(PORTAL_FIXTURES / "nextpage", root / "_default")
    return site_server(root)


# ------------------------------------------------------------------ the sample archive and Datasette


@pytest.fixture(scope="session")
def sample_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[int]]]:
    """helpers_archive's sample reports written through the real write path: (nb.db, name → report ids).

    Shared read-only: tests that change an archive build their own."""
    db_path = tmp_path_factory.mktemp("sample-archive") / "nb.db"
    return db_path, build_sample_archive(db_path)


@pytest.fixture(scope="session")
def sample_site(sample_archive: tuple[Path, dict[str, list[int]]]) -> Iterator[str]:
    """One real Datasette over HTTP on the sample archive, started as `nianbao serve` starts it."""
    with datasette_server(sample_archive[0]) as base:
        yield base


class DatasetteClient:
    """An in-process Datasette configured as `nianbao serve` configures it, driven on one event loop.

    Datasette's own tests do `await ds.client.get(path)`; without an async test runner each call is run on
    this client's loop, as Datasette's sync `TestClient` does.
    """

    def __init__(self, db_path: Path):
        from datasette.app import Datasette

        from archive.datasette_config import DATASETTE_DIR, metadata_for

        self.ds = Datasette(
            [str(db_path)],
            metadata=metadata_for(db_path.stem),
            plugins_dir=str(DATASETTE_DIR / "plugins"),
            template_dir=str(DATASETTE_DIR / "templates"),
            settings={"allow_download": True, "sql_time_limit_ms": 5000},
        )
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.ds.invoke_startup())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.ds.client.get(path, **kwargs))

    def get_json(self, path: str) -> Any:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response.json()

    def close(self) -> None:
        self.loop.close()


@pytest.fixture(scope="session")
def datasette_client(sample_archive: tuple[Path, dict[str, list[int]]]) -> Iterator[DatasetteClient]:
    """Datasette in-process (HTTPX over ASGI) on the sample archive: no port, no child process."""
    client = DatasetteClient(sample_archive[0])
    yield client
    client.close()
