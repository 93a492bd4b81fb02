"""One source for each enum: the choices the models, forms, API and admin use take their values
from the pure enums the rules are written in (polls.lifecycle, polls.standards), member for
member and in the same order, and add only translated labels."""

from __future__ import annotations

from enum import StrEnum

import pytest
from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.module_loading import import_string

from polls import lifecycle, standards
from polls.models import Comparator, PollStatus, VoteStandard

PAIRS: list[tuple[type[models.TextChoices], type[StrEnum]]] = [
    (PollStatus, lifecycle.Status),
    (VoteStandard, standards.Standard),
    (Comparator, standards.Comparator),
]
IDS = [choices.__name__ for choices, _ in PAIRS]


@pytest.mark.parametrize(("choices", "pure"), PAIRS, ids=IDS)
def test_the_choices_have_the_pure_enums_members_in_its_order(
    choices: type[models.TextChoices], pure: type[StrEnum]
) -> None:
    assert [(member.name, member.value) for member in choices] == [(member.name, member.value) for member in pure]


@pytest.mark.parametrize(("choices", "pure"), PAIRS, ids=IDS)
def test_each_member_is_the_other_enums_member(choices: type[models.TextChoices], pure: type[StrEnum]) -> None:
    for member in pure:
        assert choices(member) == member
        assert pure(choices[member.name]) is member
        assert type(choices[member.name].value) is str  # stored and serialised as plain text


@pytest.mark.parametrize(("choices", "pure"), PAIRS, ids=IDS)
def test_every_choice_keeps_a_translated_label(choices: type[models.TextChoices], pure: type[StrEnum]) -> None:
    for member in choices:
        assert isinstance(member.label, Promise)
        assert str(member.label) != member.value or member.value in {">", ">="}


def test_the_schemas_comparator_enum_still_reads_the_models_choices() -> None:
    overrides = settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]
    assert isinstance(overrides, dict)
    path = overrides["ComparatorEnum"]
    owner, attribute = path.rsplit(".", 1)
    assert getattr(import_string(owner), attribute) == Comparator.choices == [(">", "more than"), (">=", "at least")]
