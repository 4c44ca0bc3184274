"""Rendering a decision as the Latvian reply a school receives."""

from __future__ import annotations

from datetime import date

import jinja2
import pytest

from intake.config import resource_dir
from intake.core.model import (
    CellText,
    Column,
    Decision,
    Field,
    Finding,
    Group,
    GroupKind,
    ListRow,
    Participant,
    ParticipantList,
    Role,
    Severity,
)
from intake.core.programme import Programme
from intake.core.replies import (
    Rendered,
    ReplyItem,
    describe_location,
    describe_problem,
    make_environment,
    plural,
    render_no_list,
    render_reply,
)
from intake.core.rules import Circumstances, decide

PROGRAMME = Programme(name="national", title="Supervīzijas Latvijas pedagogiem",
                      one_supervision_per_educator=True)
# The template's layout: Nr. in A, then Vārds, Uzvārds, E-pasts (D) and Amats.
COLUMNS = (
    Column(Field.FIRST_NAME, 2, "Vārds"),
    Column(Field.LAST_NAME, 3, "Uzvārds"),
    Column(Field.EMAIL, 4, "E-pasts"),
    Column(Field.POSITION, 5, "Amats"),
)
FIRST_ROW = 5
GOOD_ROWS = (
    ("Ilze", "Kalniņa", "ilze.kalnina@skola.lv", "direktore"),
    ("Māris", "Ozoliņš", "maris.ozolins@skola.lv", "direktora vietnieks izglītības jomā"),
    ("Dace", "Liepiņa", "dace.liepina@skola.lv", "metodiķe"),
    ("Anna", "Bērziņa", "anna.berzina@skola.lv", "sākumskolas skolotāja"),
    ("Jānis", "Kļaviņš", "janis.klavins@skola.lv", "matemātikas skolotājs"),
    ("Līga", "Vīķe-Freiberga", "liga.vike@skola.lv", "latviešu valodas skolotāja"),
    ("Edgars", "Zariņš", "edgars.zarins@skola.lv", "sporta skolotājs"),
    ("Inese", "Krūmiņa", "inese.krumina@skola.lv", "sociālā pedagoģe"),
    ("Agnese", "Jansone", "agnese.jansone@skola.lv", "izglītības psiholoģe"),
    ("Ruta", "Ozola", "ruta.ozola@skola.lv", "logopēde"),
    ("Kristaps", "Eglītis", "kristaps.eglitis@skola.lv", "vēstures skolotājs"),
    ("Sanita", "Āboliņa", "sanita.abolina@skola.lv", "angļu valodas skolotāja"),
    ("Gints", "Šmits", "gints.smits@skola.lv", "ķīmijas skolotājs"),
    ("Zane", "Ēķe", "zane.eke@skola.lv", "pirmsskolas skolotāja"),
)


@pytest.fixture(scope="module")
def environment() -> jinja2.Environment:
    return make_environment(resource_dir("templates"))


def make_list(rows: tuple[tuple[str, ...], ...], institution: str | None = None) -> ParticipantList:
    return ParticipantList(
        file="saraksts.xlsx",
        sheet="Saraksts",
        institution=CellText(institution, 2, 2) if institution else None,
        columns=COLUMNS,
        rows=tuple(
            ListRow(FIRST_ROW + i, {c.field: CellText(text, FIRST_ROW + i, c.index)
                                    for c, text in zip(COLUMNS, values, strict=True) if text})
            for i, values in enumerate(rows)),
    )


def render(decision: Decision, environment: jinja2.Environment, *, annotated: bool = False) -> Rendered:
    item = ReplyItem(decision, annotated="saraksts-piezimes.xlsx" if annotated else None)
    return render_reply([item], environment, programme=PROGRAMME)


def decide_rows(rows: tuple[tuple[str, ...], ...], institution: str | None = None) -> Decision:
    return decide(make_list(rows, institution), Circumstances(PROGRAMME, date(2026, 3, 2)))


def test_confirmation_lists_every_group_and_participant(environment: jinja2.Environment) -> None:
    decision = decide_rows(GOOD_ROWS, "Rīgas 12. vidusskola")
    assert decision.accepted

    reply = render(decision, environment)

    assert reply.subject == "Pieteikums supervīzijai pieņemts: Rīgas 12. vidusskola"
    for body in (reply.text, reply.html):
        assert "«Rīgas 12. vidusskola»" in body
        assert "Dalībnieki sadalīti 3 grupās (kopā 14 dalībnieki)" in body
        assert "1. grupa" in body
        assert "2. grupa" in body
        assert "3. grupa" in body
        assert "iestādes vadītāji, 3 dalībnieki" in body
        assert "pedagogi, 6 dalībnieki" in body
        assert "pedagogi, 5 dalībnieki" in body
        assert "Iestādes vadība iekļauta atsevišķā grupā" in body
        for first, last, _email, position in GOOD_ROWS:
            assert f"{first} {last}, {position}" in body


def test_confirmation_lists_participants_under_their_group(environment: jinja2.Environment) -> None:
    reply = render(decide_rows(GOOD_ROWS), environment)

    leaders_part, _, educators_part = reply.text.partition("2. grupa")
    assert "Ilze Kalniņa, direktore" in leaders_part
    assert "Anna Bērziņa" not in leaders_part
    assert "Anna Bērziņa, sākumskolas skolotāja" in educators_part
    assert "Ilze Kalniņa" not in educators_part


@pytest.mark.parametrize("part", ["text", "html"])
def test_confirmation_tells_the_practicalities(environment: jinja2.Environment, part: str) -> None:
    body = getattr(render(decide_rows(GOOD_ROWS), environment), part)

    assert "3 stundas (180 minūtes)" in body
    assert "Zoom" in body
    assert "dators, planšetdators vai viedtālrunis" in body
    assert "mikrofonu" in body
    assert "tīmekļa kamera" in body
    assert "ne vairāk kā 10 dalībnieku" in body


def test_confirmation_of_one_participant_uses_the_singular(environment: jinja2.Environment) -> None:
    reply = render(decide_rows(GOOD_ROWS[3:4]), environment)

    assert "Izveidota 1 grupa (kopā 1 dalībnieks)" in reply.text
    assert "pedagogi, 1 dalībnieks" in reply.text
    assert "Iestādes vadība iekļauta atsevišķā grupā" not in reply.text
    assert reply.subject == "Pieteikums supervīzijai pieņemts"


def test_confirmation_passes_on_warnings(environment: jinja2.Environment) -> None:
    rows = (*GOOD_ROWS[3:5], ("Edgars", "Zariņš", "edgars.zarins@skola.lv", "bibliotekārs"))

    reply = render(decide_rows(rows), environment)

    assert "Saraksts ir pieņemts, tomēr lūdzam pārbaudīt" in reply.text
    assert "lapa «Saraksts», rinda 7, kolonna E (Amats): Pēc amata «bibliotekārs»" in reply.text
    assert "lapa «Saraksts», rinda 7, kolonna E (Amats)" in reply.html


def test_rejection_names_sheet_row_column_value_and_hint(environment: jinja2.Environment) -> None:
    rows = (GOOD_ROWS[3], ("Anna", "Ozola", "anna@@skola.lv", "skolotāja"), GOOD_ROWS[4])
    decision = decide_rows(rows)
    assert not decision.accepted

    reply = render(decision, environment)

    assert reply.subject == "Pieteikums supervīzijai nav pieņemts: sarakstā jālabo 1 kļūda"
    line = next(line for line in reply.text.splitlines() if "anna@@skola.lv" in line)
    assert line.startswith("1. lapa «Saraksts», rinda 6, kolonna D (E-pasts): ")
    assert "«anna@@skola.lv» nav derīga e-pasta adrese" in line
    assert "Adresē drīkst būt tikai viena zīme «@»" in line
    assert "lapa «Saraksts», rinda 6, kolonna D (E-pasts)" in reply.html
    assert "«anna@@skola.lv» nav derīga e-pasta adrese" in reply.html
    assert "Adresē drīkst būt tikai viena zīme «@»" in reply.html
    assert "180 minūtes" not in reply.text


def test_rejection_names_row_seven_column_d(environment: jinja2.Environment) -> None:
    rows = (*GOOD_ROWS[3:5], ("Anna", "Ozola", "anna@@skola.lv", "skolotāja"))

    reply = render(decide_rows(rows), environment)

    assert "lapa «Saraksts», rinda 7, kolonna D (E-pasts)" in reply.text
    assert "«anna@@skola.lv» nav derīga e-pasta adrese" in reply.text


def test_rejection_counts_errors_in_the_subject(environment: jinja2.Environment) -> None:
    rows = (("Anna", "Ozola", "anna@@skola.lv", "skolotāja"),
            ("Jānis2", "Kļaviņš", "janis@skola.lv", "skolotājs"))

    reply = render(decide_rows(rows), environment)

    assert reply.subject == "Pieteikums supervīzijai nav pieņemts: sarakstā jālabo 2 kļūdas"
    assert "jāizlabo 2 kļūdas" in reply.text
    assert "\n1. lapa «Saraksts», rinda 5" in reply.text
    assert "\n2. lapa «Saraksts», rinda 6" in reply.text


@pytest.mark.parametrize("annotated", [True, False])
def test_rejection_mentions_the_annotated_copy_only_when_attached(
        environment: jinja2.Environment, annotated: bool) -> None:
    decision = decide_rows((("Anna", "Ozola", "anna@@skola.lv", "skolotāja"),))

    reply = render(decision, environment, annotated=annotated)

    assert ("Pielikumā ir Jūsu fails" in reply.text) is annotated
    assert ("Pielikumā ir Jūsu fails" in reply.html) is annotated


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "dalībnieki"), (1, "dalībnieks"), (2, "dalībnieki"), (10, "dalībnieki"), (11, "dalībnieki"),
     (21, "dalībnieks"), (31, "dalībnieks"), (101, "dalībnieks"), (111, "dalībnieki"),
     (112, "dalībnieki"), (121, "dalībnieks")],
)
def test_plural_follows_latvian_number_agreement(count: int, expected: str) -> None:
    assert plural(count, "dalībnieks", "dalībnieki") == expected


ERROR = Finding(Severity.ERROR, "email.invalid", "«anna@@skola.lv» nav derīga e-pasta adrese.",
                sheet="Saraksts", row=7, column=4, value="anna@@skola.lv", column_title="E-pasts")


@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        (ERROR, "lapa «Saraksts», rinda 7, kolonna D (E-pasts)"),
        (Finding(Severity.ERROR, "x", "m", sheet="Saraksts", row=7, column=4),
         "lapa «Saraksts», rinda 7, kolonna D"),
        (Finding(Severity.ERROR, "x", "m", sheet="Saraksts", row=12), "lapa «Saraksts», rinda 12"),
        (Finding(Severity.ERROR, "x", "m", row=3, column=28, column_title="Grupa"),
         "rinda 3, kolonna AB (Grupa)"),
        (Finding(Severity.ERROR, "x", "m"), ""),
    ],
)
def test_location_says_as_much_as_the_finding_knows(finding: Finding, expected: str) -> None:
    assert describe_location(finding) == expected


@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        (ERROR, "«anna@@skola.lv» nav derīga e-pasta adrese."),
        (Finding(Severity.ERROR, "name.digits", "Vārdā vai uzvārdā ir cipari.", value="Jānis2"),
         "«Jānis2»: Vārdā vai uzvārdā ir cipari."),
        (Finding(Severity.ERROR, "list.empty", "Sarakstā nav neviena dalībnieka."),
         "Sarakstā nav neviena dalībnieka."),
    ],
)
def test_problem_quotes_the_value_once(finding: Finding, expected: str) -> None:
    assert describe_problem(finding) == expected


SCRIPT = "<script>alert(1)</script>"


def test_html_escapes_a_value_from_the_sheet_while_text_keeps_it(environment: jinja2.Environment) -> None:
    finding = Finding(Severity.ERROR, "name.symbols", "Vārdā vai uzvārdā ir zīmes, kas nav burti.",
                      "Vārdā un uzvārdā drīkst būt tikai burti.", file="saraksts.xlsx", sheet="Saraksts",
                      row=5, column=2, value=SCRIPT, column_title="Vārds")
    decision = Decision("saraksts.xlsx", None, "national", (), (finding,), "Saraksts")

    reply = render(decision, environment)

    assert SCRIPT not in reply.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply.html
    assert f"«{SCRIPT}»: Vārdā vai uzvārdā ir zīmes" in reply.text


def test_html_escapes_participant_names_and_file_name(environment: jinja2.Environment) -> None:
    person = Participant(5, "<b>Anna</b>", "Bērziņa", "skolotāja & audzinātāja", "anna@skola.lv",
                         Role.EDUCATOR)
    decision = Decision("<img src=x>.xlsx", "Skola <i>", "national",
                        (Group(GroupKind.EDUCATORS, (person,)),), (), "Saraksts")

    reply = render(decision, environment)

    assert "<b>" not in reply.html
    assert "<img" not in reply.html
    assert "<i>" not in reply.html
    assert "&lt;b&gt;Anna&lt;/b&gt; Bērziņa, skolotāja &amp; audzinātāja" in reply.html
    assert "<b>Anna</b> Bērziņa, skolotāja & audzinātāja" in reply.text
    assert "«<img src=x>.xlsx»" in reply.text


def test_one_reply_answers_several_lists_and_numbers_the_accepted(
        environment: jinja2.Environment) -> None:
    good = decide_rows((("Anna", "Ozola", "anna@skola.lv", "skolotāja"),))
    bad = decide_rows((("Anna", "Ozola", "anna@@skola.lv", "skolotāja"),))

    reply = render_reply([ReplyItem(good, number="SUP-2026-00042"), ReplyItem(bad)], environment,
                         programme=PROGRAMME, blank_attached=True)

    assert reply.subject == "Pieteikums supervīzijai: pieņemts 1 saraksts no 2"
    assert "1. saraksts" in reply.text and "2. saraksts" in reply.text
    assert "Pieteikuma numurs: SUP-2026-00042." in reply.text
    assert "pievienota arī tukša saraksta veidlapa" in reply.text
    assert "SUP-2026-00042" in reply.html


def test_no_list_reply_explains_how_to_apply(environment: jinja2.Environment) -> None:
    reply = render_no_list(environment, programme=PROGRAMME, blank_name="dalibnieku-saraksts.xlsx")

    assert reply.subject == "Pieteikumam supervīzijai vajadzīgs dalībnieku saraksts"
    assert "«dalibnieku-saraksts.xlsx»" in reply.text
    assert "Kā pieteikties" in reply.html


def test_a_long_latvian_subject_survives_folding_exactly() -> None:
    import email
    import email.policy
    from datetime import UTC, datetime

    from intake.core.replies import Envelope, compose_email

    subject = "Re: Pieteikums supervīzijai – Rīgas Valsts 1. ģimnāzija, Kļaviņas iela 12, pedagogu grupa"
    raw = compose_email(Rendered(subject, "teksts", "<p>teksts</p>"),
                        Envelope("a@ikvd.example.lv", "b@skola.lv", "<x@ikvd.example.lv>",
                                 datetime(2026, 11, 25, tzinfo=UTC)))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject
    assert parsed["Auto-Submitted"] == "auto-replied"


def test_a_reply_with_attachments_parses_back_into_exactly_its_parts() -> None:
    import email
    import email.policy
    from datetime import UTC, datetime

    from intake.core.replies import Envelope, FileAttachment, compose_email

    text = "Labdien!\n" + "--=_intake_ " * 50  # text that looks like a boundary does no harm
    raw = compose_email(Rendered("Temats", text, "<p>Ā</p>"),
                        Envelope("a@ikvd.example.lv", "b@skola.lv", "<x@ikvd.example.lv>",
                                 datetime(2026, 11, 25, tzinfo=UTC)),
                        [FileAttachment("saraksts.xlsx", b"PK\x03\x04" + bytes(range(256)) * 40),
                         FileAttachment("tukšs.xlsx", b"PK")])
    parsed = email.message_from_bytes(raw, policy=email.policy.default)

    assert not parsed.defects and all(not part.defects for part in parsed.walk())
    assert parsed.get_body(("plain",)).get_content() == text
    assert parsed.get_body(("html",)).get_content() == "<p>Ā</p>"
    assert [(a.get_filename(), a.get_content()) for a in parsed.iter_attachments()] == [
        ("saraksts.xlsx", b"PK\x03\x04" + bytes(range(256)) * 40), ("tukšs.xlsx", b"PK")]
    assert len({part.get_boundary() for part in parsed.walk() if part.is_multipart()}) == 2


@pytest.mark.parametrize("value", [
    "supervizija@ikvd.example.lv", "Wed, 25 Nov 2026 09:00:00 +0000", "<abc123@ikvd.example.lv>",
    'multipart/mixed; boundary="===============1234567890=="', "a  b", "a\tb", " lead", "trail ",
    "x" * 66, "x" * 67, "x" * 68, "Bērziņa", "a\r\n continued", "<a@b.lv> " * 12, "",
])
def test_headers_go_on_the_wire_exactly_as_compat32_folds_them(value):
    from email.policy import compat32

    from intake.core.replies import _WIRE

    reference = compat32.clone(linesep="\r\n", max_line_length=78)
    assert _WIRE.fold_binary("Message-ID", value) == reference.fold_binary("Message-ID", value)
