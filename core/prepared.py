"""A queryset compiled once per process and run again with other values (issue #20).

Django compiles a queryset's SQL on every evaluation: for a read with a few
`select_related` joins that is most of its Python time (the incident create's
opening read: 2.8 ms of CPU compiling against well under 1 ms running). A hot
read whose *shape* never changes, only its values, can be compiled once:

    PREPARED = PreparedQueries()

    def contact_of(by, work_order_id, email):
        shape = ("email", scope_kind(by))
        query = PREPARED.get(shape, lambda s: build_queryset(by, s.work_order, s.email),
                             work_order=0, email="")
        return query.first(work_order=work_order_id, email=email)

The builder is called once per shape with *sentinels* in place of the values; the
compiled SQL keeps their positions, and later calls put the real values there. The
queryset is built the ordinary way (scoped through `visible_to`, the one door), so
nothing about what a caller may read is written twice. A sentinel that does not
appear exactly once among the compiled parameters is refused at once (a builder that
transforms its value, e.g. `icontains`, cannot be prepared). Rows become instances as
Django's own `ModelIterable` makes them (`select_related` objects and annotations
included).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import SimpleNamespace

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

_counter = itertools.count(1)


def _sentinel(example):
    """A value of `example`'s type that no caller passes (negative ids, NUL-led text)."""
    n = next(_counter)
    if isinstance(example, bool):
        raise TypeError("booleans cannot be prepared: they are not distinct enough")
    if isinstance(example, int):
        return -(2_000_000_000 + n)
    if isinstance(example, str):
        return f"\x00prepared-sentinel-{n}\x00"
    raise TypeError(f"cannot prepare a value of type {type(example).__name__}")


class PreparedQuery:
    """One compiled queryset; `first(**values)` runs it with those values."""

    def __init__(self, build: Callable[[SimpleNamespace], QuerySet], examples: dict):
        sentinels = {name: _sentinel(value) for name, value in examples.items()}
        queryset = build(SimpleNamespace(**sentinels))
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            self.sql = None  # the shape reads nothing (e.g. an actor who may see nothing)
            return
        self.sql, self.params = sql, list(params)
        self.positions = {}
        for name, sentinel in sentinels.items():
            found = [
                i for i, p in enumerate(self.params) if type(p) is type(sentinel) and p == sentinel
            ]
            if len(found) != 1:
                raise ValueError(f"{name!r} appears {len(found)} times in the compiled query")
            self.positions[name] = found[0]
        self.compiler = compiler
        klass_info, select = compiler.klass_info, compiler.select
        self.model = klass_info["model"]
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model_slice = slice(first, last)
        self.init_list = [f[0].target.attname for f in select[first:last]]
        self.related_populators = get_related_populators(klass_info, select, self.db)
        self.annotations = dict(compiler.annotation_col_map or {})

    def first(self, **values):
        """The first row as an instance, or None."""
        if self.sql is None:
            return None
        params = list(self.params)
        for name, value in values.items():
            params[self.positions[name]] = value
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchmany(1)
        for row in self.compiler.results_iter([rows]):
            obj = self.model.from_db(self.db, self.init_list, row[self.model_slice])
            for populator in self.related_populators:
                populator.populate(row, obj)
            for attr, position in self.annotations.items():
                setattr(obj, attr, row[position])
            return obj
        return None


class PreparedQueries:
    """Per-process cache of PreparedQuery by shape (whatever changes the SQL's text)."""

    def __init__(self):
        self._queries: dict = {}

    def get(self, shape, build: Callable[[SimpleNamespace], QuerySet], **examples) -> PreparedQuery:
        query = self._queries.get(shape)
        if query is None:
            query = self._queries[shape] = PreparedQuery(build, examples)
        return query

    def clear(self) -> None:
        self._queries.clear()
