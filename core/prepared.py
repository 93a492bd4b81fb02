"""A select of whole rows of a few joined models whose SQL is built once per process, for the
requests every ballot makes (its token, the poll's options): compiling the ORM's
select_related query cost more than running it (profiled, bench/). The rows come back as the
models' instances, through the same database converters the ORM applies."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Model
from django.db.models.expressions import Col

Field = tuple[str, Col]


class PreparedSelect:
    """`SELECT <every concrete column of each model>[, <extra>] <tail>`, with each model under its
    alias. `extra` is more columns in SQL (a scalar subquery, say), returned as the driver reads
    them after the instances; its placeholders' values come first in `rows`' parameters. It lets
    a request that needs one more value have it in the same round trip."""

    def __init__(self, models: list[tuple[type[Model], str]], tail: str, *, extra: str = "") -> None:
        self.models = models
        self.tail = tail
        self.extra = extra
        self.sql = ""
        self.fields: list[list[Field]] = []
        self.converters: list[list[list[Any]]] = []

    def _prepare(self, using: str) -> None:
        database = connections[using]
        quote = database.ops.quote_name
        selected = []
        for model, alias in self.models:
            fields, converters = [], []
            for field in model._meta.concrete_fields:
                column = field.get_col(alias)
                fields.append((field.attname, column))
                converters.append(database.ops.get_db_converters(column) + column.get_db_converters(database))
                selected.append(f"{alias}.{quote(field.column)}")
            self.fields.append(fields)
            self.converters.append(converters)
        tables = {model._meta.model_name or "": quote(model._meta.db_table) for model, _alias in self.models}
        if self.extra:
            selected.append(self.extra.format(**tables))
        self.sql = f"SELECT {', '.join(selected)} " + self.tail.format(**tables)

    def rows(self, params: list[Any], *, read_as: type[Model]) -> list[list[Any]]:
        """Each row as one instance per model (then the extra columns' values), read where the
        router sends reads of `read_as`."""
        using = router.db_for_read(read_as) or DEFAULT_DB_ALIAS
        database = connections[using]
        if not self.sql:
            self._prepare(using)
        with database.cursor() as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        built = []
        for row in fetched:
            start, instances = 0, []
            for (model, _alias), fields, field_converters in zip(
                self.models, self.fields, self.converters, strict=True
            ):
                values = []
                for offset, ((_name, column), steps) in enumerate(zip(fields, field_converters, strict=True)):
                    value = row[start + offset]
                    for convert in steps:
                        value = convert(value, column, database)
                    values.append(value)
                start += len(fields)
                instances.append(model.from_db(using, [name for name, _column in fields], values))
            built.append([*instances, *row[start:]])
        return built
