"""Row shapes under a header: which are participants, which are a list's closing."""

from __future__ import annotations

import pytest

from intake.core.columns import recognise_columns
from intake.core.lines import Layout, Line, Shape, classify, is_date, participant_lines
from intake.core.model import CellText

LAYOUT = Layout.of(recognise_columns(["Nr.", "Vārds", "Uzvārds", "Amats", "E-pasts"]))
FULL = Layout.of(recognise_columns(["Nr.", "Vārds, uzvārds", "Amats", "E-pasts"]))


def shape_of(*values: object, layout: Layout = LAYOUT) -> Line:
    cells = {i: CellText(str(v), 7, i) for i, v in enumerate(values, start=1) if v is not None}
    return classify(cells, layout).line


@pytest.mark.parametrize(("values", "line"), [
    ((1, "Anna", "Bērziņa", "skolotāja", "anna@skola.lv"), Line.PERSON),
    ((1, "Ilze", "Kalniņa", "direktore"), Line.PERSON),
    ((None, "Иван", "Петров", "skolotājs"), Line.PERSON),
    ((None, None, None, "skolotāja"), Line.UNSURE),
    ((None, None, "Ozola", "skolotāja"), Line.UNSURE),
    ((None, "Direktors", "____", "J. Kalns"), Line.CLOSING),
    ((None, "Direktore ____________ I. Kalniņa"), Line.CLOSING),
    ((None, "Direktore I. Kalniņa"), Line.SIGNATURE),
    ((None, "Direktore", "Ilze Kalniņa"), Line.SIGNATURE),
    ((None, None, None, "Direktore"), Line.SIGNATURE),
    ((None, None, None, "I. Kalniņa"), Line.SIGNATURE),
    ((None, "Rīgā"), Line.SIGNATURE),
    ((None, "Sagatavoja: L. Ozola"), Line.CLOSING),
    ((None, "Kontaktpersona:", "Līga Ozola", "tālr. 29123456", "liga@skola.lv"), Line.CLOSING),
    ((None, "APSTIPRINU"), Line.CLOSING),
    ((None, "SASKAŅOTS"), Line.CLOSING),
    ((None, "Z.v."), Line.CLOSING),
    ((None, "Kopā:", None, None, 12), Line.CLOSING),
    (("Kopā 12 dalībnieki",), Line.CLOSING),
    ((None, "Pavisam", 12), Line.CLOSING),
    ((None, "Piezīme: attālināti"), Line.CLOSING),
    ((None, "Dalībnieku saraksts supervīzijai"), Line.CLOSING),
    ((None, None, None, "Pielikums Nr. 1"), Line.CLOSING),
    ((None, "Rīgas 12. vidusskola"), Line.CLOSING),
    ((None, "Pedagogi"), Line.CLOSING),
    ((None, "Vārds", "Uzvārds", "Amats", "E-pasts"), Line.CLOSING),
    ((1, 2, 3, 4, 5), Line.CLOSING),
    ((None, "Valmierā, 2026. gada 3. decembrī"), Line.CLOSING),
    ((None, "Cēsīs", None, "03.12.2026"), Line.CLOSING),
])
def test_row_shapes(values, line):
    assert shape_of(*values) is line


@pytest.mark.parametrize(("values", "line"), [
    ((1, "Anna Bērziņa", "skolotāja"), Line.PERSON),
    ((None, "Direktore"), Line.SIGNATURE),
    ((None, "J. Kalns", "direktors"), Line.SIGNATURE),
])
def test_row_shapes_with_a_combined_name_column(values, line):
    assert shape_of(*values, layout=FULL) is line


@pytest.mark.parametrize("text", [
    "2026. gada 3. decembrī", "2026. g. 3. decembris", "2026.g. 3.decembrī", "03.12.2026.",
    "3.12.2026", "2026-12-03", "03/12/2026", "3. decembrī, 2026", "03.12.2026 09:30",
])
def test_latvian_dates(text):
    assert is_date(text)


@pytest.mark.parametrize("text", ["Anna Bērziņa", "12", "2026", "Augusts", "skolotāja 3. klasei"])
def test_not_dates(text):
    assert not is_date(text)


P, E, S, C, U = (Shape(Line.PERSON), Shape(Line.PERSON, email=True), Shape(Line.SIGNATURE),
                 Shape(Line.CLOSING), Shape(Line.UNSURE))
DIRECTOR = Shape(Line.PERSON, signs=True)


@pytest.mark.parametrize(("shapes", "kept"), [
    ([E, E, P, S, C], [1, 1, 1, 0, 0]),  # the last participant without e-mail, then a signature
    ([E, S, E], [1, 1, 1]),  # a title row between participants is a faulty participant
    ([E, E, None, S, C], [1, 1, 0, 0, 0]),
    ([E, E, None, P, C], [1, 1, 0, 1, 0]),  # a teacher after a gap, above the date
    ([E, E, None, DIRECTOR, C], [1, 1, 0, 0, 0]),  # a director's name over the date: a signature
    ([E, E, None, U, U], [1, 1, 0, 1, 1]),  # faulty rows after a gap, nothing closing: reported
    ([E, E, None, U, C], [1, 1, 0, 0, 0]),
    ([E, C, U], [1, 0, 0]),  # the list closed with a total: what follows is its closing
    ([E, C, P], [1, 0, 1]),
    ([P, P, S], [1, 1, 0]),  # no e-mail anywhere: named rows anchor the list
    ([None, S, C], [0, 0, 0]),
])
def test_which_lines_are_participants(shapes, kept):
    assert participant_lines(shapes) == [bool(k) for k in kept]
