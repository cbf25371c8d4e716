"""Views of several modules under one blueprint, put together by the package's init_app, by name.

A Flask blueprint accepts routes only until it is first registered, and every create_app registers it again;
so a module with pages keeps its routes in a `Routes` group (decorated as on a blueprint), and the package's
`init_app` builds its blueprint from the groups it names, e.g. ivr's pages, call simulator and voicemails
all keep the `ivr.` endpoint names and `/ivr/…` URLs without importing each other for a side effect.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Blueprint


class Routes:
    """Routes of one module, added to a blueprint by `add_to`."""

    def __init__(self) -> None:
        self._deferred: list[Callable[[Blueprint], None]] = []

    def route(self, rule: str, **options):
        endpoint = options.pop("endpoint", None)

        def decorate(view):
            self._deferred.append(lambda bp: bp.add_url_rule(rule, endpoint, view, **options))
            return view

        return decorate

    def add_to(self, blueprint: Blueprint) -> None:
        for add in self._deferred:
            add(blueprint)


def assemble(name: str, import_name: str, groups: Iterable[Routes], **options) -> Blueprint:
    """A new blueprint `name` (endpoints `name.view`) holding every group's routes; options as Blueprint's."""
    blueprint = Blueprint(name, import_name, **options)
    for group in groups:
        group.add_to(blueprint)
    return blueprint
