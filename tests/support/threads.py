"""Several workers started at the same moment, each in its own thread with the app and a database connection."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from core.db import database


def side_by_side(app, names: Iterable[str], work: Callable[[str], object]) -> dict[str, object]:
    """work(name) for every name at once (a barrier lines them up); {name: what it returned}. A thread's exception
    would otherwise vanish with it: the first one is raised here."""
    names = list(names)
    start = threading.Barrier(len(names))
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            with app.app_context(), database.connection_context():
                start.wait()
                results[name] = work(name)
        except BaseException as exc:  # noqa: BLE001  (raised below, in the test's thread)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
