"""The statements every ballot makes, made cheap on both sides.

PreparedSelect: a select of whole rows of a few joined models whose SQL is built once per
process, for the requests every ballot makes (its token, the poll's options): compiling the
ORM's select_related query cost more than running it (profiled, bench/). The rows come back as
the models' instances, through the same database converters the ORM applies.

prepared_cursor: on PostgreSQL, a cursor whose statements the server parses and plans once per
connection (a named prepared statement, psycopg's), not on every execution: Django binds values
on the client and never prepares, so the server planned the election ballot's statement on
every ballot (bench.election_profile: its backend's CPU per ballot)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from functools import cache
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Model
from django.db.models.expressions import Col

Field = tuple[str, Col]

# Django opens psycopg's connections with prepare_threshold None (preparing off); its own cursors
# bind on the client, which never prepares, so turning it on changes nothing for them. This
# threshold is never reached by counting: only a statement executed with prepare=True is.
ONLY_WHEN_ASKED = 2**62


# Every statement prepared here is written for one plan (values are parameters, of fixed types):
# left to choose, the server planned the totals' UPDATE ... FROM unnest(...) afresh on every
# execution (pg_prepared_statements: 0 generic plans, 301 custom), estimating its generic plan
# dearer. Only prepared statements have cached plans, and Django's never prepare: the setting
# is the session's, and changes nothing else.
GENERIC_PLANS_SQL = "SET plan_cache_mode = force_generic_plan"
_generic: weakref.WeakSet[Any] = weakref.WeakSet()


class _PreparingCursor(psycopg.Cursor[Any]):
    """Values bound by the server, every statement prepared on its first execution."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        return super().execute(query, params, prepare=True)

    def _send_query_prepared(self, name: bytes, pgq: Any, *, binary: bool | None = None) -> None:
        # As psycopg's unprepared execution leaves it: Django's query log (DEBUG, the tests'
        # CaptureQueriesContext) reads the statement there, and found None.
        self._query = pgq
        super()._send_query_prepared(name, pgq, binary=binary)


def can_prepare(database: BaseDatabaseWrapper) -> bool:
    """A prepared statement lives in one server session: not behind a transaction pooler
    (DISABLE_SERVER_SIDE_CURSORS, README, Deploying), which may hand the next one to another."""
    return database.vendor == "postgresql" and not database.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")


@contextmanager
def prepared_cursor(database: BaseDatabaseWrapper) -> Iterator[CursorWrapper]:
    """A cursor whose statements are prepared once per connection where that is safe, else
    Django's own. Write `%s` or `%(name)s` as usual; a value whose type could change from one
    execution to the next (an integer's size, a NULL) takes a cast, or the statement is prepared
    once per set of types."""
    if not can_prepare(database):
        with database.cursor() as cursor:
            yield cursor
        return
    database.ensure_connection()
    raw = database.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = ONLY_WHEN_ASKED
    if raw not in _generic and not database.in_atomic_block:  # a rolled-back SET would be undone
        with database.cursor() as cursor:
            cursor.execute(GENERIC_PLANS_SQL)
        _generic.add(raw)
    # Django's own wrapper around it: its error classes, query log and execute wrappers.
    with database._prepare_cursor(_PreparingCursor(raw)) as cursor:  # type: ignore[attr-defined]
        yield cursor


def array_literal(values: Iterable[int | str]) -> str:
    """An array's text form, to cast in the statement (`%(ids)s::bigint[]`): psycopg's dumping of
    a list (finding its element type, then each element) cost more than the rest of a ballot's
    parameters together (cProfile). Only for integers and plain words, which need no quoting."""
    return "{" + ",".join(map(str, values)) + "}"


@cache
def _pipeline_supported() -> bool:
    return psycopg.Pipeline.is_supported()  # the libpq's version: fixed for the process


def first_row_of_two(database: BaseDatabaseWrapper, first: str, second: str, params: Mapping[str, Any]) -> Any:
    """`first`'s first row (or None) after `first` then `second` ran as one transaction. Where
    statements may be prepared (prepared_cursor), both are, and go in one round trip: psycopg's
    pipeline, outside a transaction, has the server run what comes before its Sync as one
    implicit transaction, both or neither. Else one after the other in a transaction. In a
    caller's transaction, a savepoint, so a refusal leaves it usable. `second` learns from
    `first` through settings local to the transaction (set_config(..., true)), as nothing else
    passes between them in one trip."""
    pipelined = can_prepare(database) and _pipeline_supported()
    atomic = transaction.atomic(using=database.alias) if database.in_atomic_block or not pipelined else nullcontext()
    with atomic, prepared_cursor(database) as leading, prepared_cursor(database) as following:
        batch = database.connection.pipeline() if pipelined else nullcontext()
        with database.wrap_database_errors, batch:
            leading.execute(first, params)
            following.execute(second, params)
            return leading.fetchone()


class PreparedSelect:
    """`SELECT <every concrete column of each model>[, <extra>] <tail>`, with each model under its
    alias. `extra` is more columns in SQL (a scalar subquery, say), returned as the driver reads
    them after the instances; its placeholders' values come first in `rows`' parameters. It lets
    a request that needs one more value have it in the same round trip. A callable `extra` is
    asked on first use, for columns known only once every app is ready."""

    def __init__(
        self, models: list[tuple[type[Model], str]], tail: str, *, extra: str | Callable[[], str] = ""
    ) -> None:
        self.models = models
        self.tail = tail
        self.extra = extra
        self.sql = ""
        self.names: list[list[str]] = []
        self.converted: list[list[tuple[int, Col, list[Any]]]] = []

    def _prepare(self, using: str) -> None:
        database = connections[using]
        quote = database.ops.quote_name
        selected = []
        # Built aside and set together, the SQL last: a thread that finds the SQL set finds the rest.
        names: list[list[str]] = []
        converted: list[list[tuple[int, Col, list[Any]]]] = []
        for model, alias in self.models:
            fields: list[Field] = []
            converters: list[list[Any]] = []
            for field in model._meta.concrete_fields:
                column = field.get_col(alias)
                fields.append((field.attname, column))
                converters.append(database.ops.get_db_converters(column) + column.get_db_converters(database))
                selected.append(f"{alias}.{quote(field.column)}")
            names.append([name for name, _column in fields])
            # Only the columns a converter changes (on PostgreSQL, usually none): every token
            # lookup walks this per row.
            converted.append(
                [
                    (offset, column, steps)
                    for offset, ((_name, column), steps) in enumerate(zip(fields, converters, strict=True))
                    if steps
                ]
            )
        tables = {model._meta.model_name or "": quote(model._meta.db_table) for model, _alias in self.models}
        extra = self.extra() if callable(self.extra) else self.extra
        if extra:
            selected.append(extra.format(**tables))
        self.names, self.converted = names, converted
        self.sql = f"SELECT {', '.join(selected)} " + self.tail.format(**tables)

    def rows(self, params: list[Any], *, read_as: type[Model]) -> list[list[Any]]:
        """Each row as one instance per model (then the extra columns' values), read where the
        router sends reads of `read_as`."""
        using = router.db_for_read(read_as) or DEFAULT_DB_ALIAS
        database = connections[using]
        if not self.sql:
            self._prepare(using)
        with prepared_cursor(database) as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        built = []
        for row in fetched:
            start, instances = 0, []
            for (model, _alias), names, converted in zip(self.models, self.names, self.converted, strict=True):
                values = list(row[start : start + len(names)])
                for offset, column, steps in converted:
                    for convert in steps:
                        values[offset] = convert(values[offset], column, database)
                start += len(names)
                instances.append(model.from_db(using, names, values))
            built.append([*instances, *row[start:]])
        return built
