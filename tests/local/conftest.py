"""Tiny demo models built once per session (the same builder as `loomware models init-demo`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

torch = pytest.importorskip("torch", reason="the local engine needs the `local` extra")

from graph_runtime.backends.local.backend import LocalBackend  # noqa: E402
from graph_runtime.backends.local.catalog import Catalog  # noqa: E402
from graph_runtime.backends.local.demo_models import init_demo  # noqa: E402
from tests.local.helpers import UnetCalls  # noqa: E402

# Same seed, same thread count -> same pixels; pin it so results do not depend on the machine.
torch.set_num_threads(2)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # diffusers' schedulers pass tensors to np.array(); numpy 2 warns on every step. Not ours to fix.
    here = str(__file__).rsplit("/", 1)[0]
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"))
            item.add_marker(pytest.mark.filterwarnings("ignore:__array_wrap__ must accept:DeprecationWarning"))


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    catalog = Catalog(tmp_path_factory.mktemp("models"))
    init_demo(catalog)
    return catalog


@pytest.fixture(scope="session")
def backend(demo_catalog: Catalog) -> Iterator[LocalBackend]:
    engine = LocalBackend(demo_catalog, device="cpu", dtype="float32")
    yield engine
    asyncio.run(engine.aclose())


@pytest.fixture
def unet_calls(backend: LocalBackend) -> Iterator[Callable[[str], UnetCalls]]:
    """count(air) starts counting that checkpoint's UNet forward calls; hooks are removed afterwards."""
    counters: list[UnetCalls] = []

    def count(air: str) -> UnetCalls:
        counter = UnetCalls(backend.models.checkpoint(air).pipe.unet)
        counters.append(counter)
        return counter

    yield count
    for c in counters:
        c.close()
