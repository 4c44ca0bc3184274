"""The blank list is made once per programme wording and reused for every reply that carries it."""

from __future__ import annotations

from dataclasses import replace

from intake.core.blank_list import make_blank_list
from intake.core.programme import Programme

PROGRAMME = Programme(name="national", title="Supervīzijas Latvijas pedagogiem")


def test_the_blank_list_is_made_once_per_programme():
    first = make_blank_list(PROGRAMME)
    assert make_blank_list(replace(PROGRAMME, name="other")) is first  # the same wording
    assert make_blank_list(replace(PROGRAMME, max_group_size=8)) != first
    assert make_blank_list(replace(PROGRAMME, title="Cita programma")) != first
