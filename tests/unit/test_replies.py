"""Rendering a decision as the Latvian reply a school receives."""

from __future__ import annotations

import re
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
    number_findings,
    plural,
    render_no_list,
    render_reply,
)
from intake.core.resubmission import PersonChange, Relation
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

    assert reply.subject == "Pieteikums supervīzijai: Rīgas 12. vidusskola — pieņemts"
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
    assert reply.subject == "Pieteikums supervīzijai — pieņemts"


def test_confirmation_passes_on_warnings(environment: jinja2.Environment) -> None:
    rows = (*GOOD_ROWS[3:5], ("Edgars", "Zariņš", "edgars.zarins@skola.lv", "bibliotekārs"))

    reply = render(decide_rows(rows), environment)

    assert "Saraksts ir pieņemts, tomēr lūdzam pārbaudīt" in reply.text
    assert "1. Lapā «Saraksts», 7. rindā, kolonnā «Amats» (E7)\n   Pēc amata «bibliotekārs»" in reply.text
    assert "Lapā «Saraksts», 7. rindā, kolonnā «Amats» (E7)" in reply.html


def test_rejection_names_sheet_row_column_value_and_hint(environment: jinja2.Environment) -> None:
    rows = (GOOD_ROWS[3], ("Anna", "Ozola", "anna@@skola.lv", "skolotāja"), GOOD_ROWS[4])
    decision = decide_rows(rows)
    assert not decision.accepted

    reply = render(decision, environment)

    assert reply.subject == "Pieteikums supervīzijai — jālabo 1 kļūda"
    lines = reply.text.splitlines()
    at = lines.index("1. Lapā «Saraksts», 6. rindā, kolonnā «E-pasts» (D6)")
    assert lines[at + 1].startswith("   «anna@@skola.lv» nav derīga e-pasta adrese.")
    assert "Adresē drīkst būt tikai viena zīme «@»" in lines[at + 1]
    assert "Lapā «Saraksts», 6. rindā, kolonnā «E-pasts» (D6)" in reply.html
    assert "«anna@@skola.lv» nav derīga e-pasta adrese" in reply.html
    assert "Adresē drīkst būt tikai viena zīme «@»" in reply.html
    assert "180 minūtes" not in reply.text


def test_rejection_names_row_seven_column_d(environment: jinja2.Environment) -> None:
    rows = (*GOOD_ROWS[3:5], ("Anna", "Ozola", "anna@@skola.lv", "skolotāja"))

    reply = render(decide_rows(rows), environment)

    assert "Lapā «Saraksts», 7. rindā, kolonnā «E-pasts» (D7)" in reply.text
    assert "«anna@@skola.lv» nav derīga e-pasta adrese" in reply.text


def test_rejection_counts_errors_in_the_subject(environment: jinja2.Environment) -> None:
    rows = (("Anna", "Ozola", "anna@@skola.lv", "skolotāja"),
            ("Jānis2", "Kļaviņš", "janis@skola.lv", "skolotājs"))

    reply = render(decide_rows(rows), environment)

    assert reply.subject == "Pieteikums supervīzijai — jālabo 2 kļūdas"
    assert "jāizlabo 2 kļūdas" in reply.text
    assert "\n1. Lapā «Saraksts», 5. rindā" in reply.text
    assert "\n2. Lapā «Saraksts», 6. rindā" in reply.text


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
        (ERROR, "Lapā «Saraksts», 7. rindā, kolonnā «E-pasts» (D7)"),
        (Finding(Severity.ERROR, "x", "m", sheet="Saraksts", row=7, column=4),
         "Lapā «Saraksts», 7. rindā, kolonnā D"),
        (Finding(Severity.ERROR, "x", "m", sheet="Saraksts", row=12), "Lapā «Saraksts», 12. rindā"),
        (Finding(Severity.ERROR, "x", "m", row=3, column=28, column_title="Grupa"),
         "3. rindā, kolonnā «Grupa» (AB3)"),
        (Finding(Severity.ERROR, "x", "m", sheet="Saraksts", column=5, column_title="Amats"),
         "Lapā «Saraksts», kolonnā «Amats» (kolonna E)"),
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
         "«Jānis2»: vārdā vai uzvārdā ir cipari."),
        (Finding(Severity.ERROR, "x", "VIIS reģistrā tādas iestādes nav.", value="Skola"),
         "«Skola»: VIIS reģistrā tādas iestādes nav."),
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
    assert f"«{SCRIPT}»: vārdā vai uzvārdā ir zīmes" in reply.text


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

    assert reply.subject == ("Pieteikums supervīzijai — pieņemts 1 saraksts no 2 (SUP-2026-00042), "
                             "jālabo 1 kļūda")
    assert "1. saraksts" in reply.text and "2. saraksts" in reply.text
    assert "Pieteikuma numurs: SUP-2026-00042." in reply.text
    assert "pievienota arī tukša saraksta veidlapa" in reply.text
    assert "SUP-2026-00042" in reply.html


def test_no_list_reply_explains_how_to_apply(environment: jinja2.Environment) -> None:
    reply = render_no_list(environment, programme=PROGRAMME, blank_name="dalibnieku-saraksts.xlsx")

    assert reply.subject == "Pieteikums supervīzijai — vajadzīgs dalībnieku saraksts"
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


def _item(decision: Decision, **fields: object) -> ReplyItem:
    return ReplyItem(decision, **fields)  # type: ignore[arg-type]


GOOD = decide_rows(GOOD_ROWS[3:5])
BAD = decide_rows((("Anna", "Ozola", "anna@@skola.lv", "skolotāja"),
                   ("Jānis2", "Kļaviņš", "janis@skola.lv", "skolotājs"),
                   ("Ruta", "Ozola", "", "logopēde")))


@pytest.mark.parametrize(("items", "original", "expected"), [
    pytest.param([_item(GOOD, number="SUP-2026-00004")], "Pieteikums",
                 "Re: Pieteikums — pieņemts, SUP-2026-00004", id="accepted"),
    pytest.param([_item(BAD)], "Pieteikums", "Re: Pieteikums — jālabo 3 kļūdas", id="rejected"),
    pytest.param([_item(GOOD, number="SUP-2026-00004", relation=Relation.REPEAT,
                        earlier_on=date(2026, 3, 1))], "RE: Pieteikums",
                 "Re: Pieteikums — jau reģistrēts, SUP-2026-00004", id="repeat"),
    pytest.param([_item(GOOD, number="SUP-2026-00004", relation=Relation.AMENDMENT,
                        change=PersonChange((), (), ()))], "Re: Pieteikums — pieņemts, SUP-2026-00004",
                 "Re: Pieteikums — grozījumi pieņemti, SUP-2026-00004", id="amendment-answers-ours"),
    pytest.param([_item(BAD, number="SUP-2026-00004", relation=Relation.AMENDMENT_REFUSED)],
                 "Re: Re: Pieteikums", "Re: Pieteikums — grozījumi nav pieņemti, jālabo 3 kļūdas",
                 id="amendment-refused"),
    pytest.param([_item(BAD)], "Re: Pieteikums — jālabo 3 kļūdas",
                 "Re: Pieteikums — jālabo 3 kļūdas", id="correction-keeps-one-outcome"),
    pytest.param([_item(BAD)], "", "Pieteikums supervīzijai — jālabo 3 kļūdas", id="no-subject"),
])
def test_subject_keeps_the_thread_and_tells_the_outcome(
        environment: jinja2.Environment, items: list[ReplyItem], original: str, expected: str) -> None:
    reply = render_reply(items, environment, programme=PROGRAMME, original_subject=original)

    assert reply.subject == expected


@pytest.mark.parametrize(("errors", "words"), [
    (1, "1 kļūda"), (2, "2 kļūdas"), (9, "9 kļūdas"), (11, "11 kļūdas"), (21, "21 kļūda"),
    (22, "22 kļūdas"),
])
def test_subject_counts_errors_with_latvian_agreement(environment: jinja2.Environment, errors: int,
                                                      words: str) -> None:
    findings = tuple(Finding(Severity.ERROR, "x", "Kļūda.", sheet="Saraksts", row=5 + n, column=2)
                     for n in range(errors))
    decision = Decision("saraksts.xlsx", None, "national", (), findings, "Saraksts")

    reply = render_reply([ReplyItem(decision)], environment, programme=PROGRAMME,
                         original_subject="Pieteikums")

    assert reply.subject == f"Re: Pieteikums — jālabo {words}"


def test_no_list_subject_keeps_the_thread(environment: jinja2.Environment) -> None:
    reply = render_no_list(environment, programme=PROGRAMME, blank_name="x.xlsx",
                           original_subject="Kā pieteikties?")

    assert reply.subject == "Re: Kā pieteikties? — vajadzīgs dalībnieku saraksts"


def test_the_mail_numbers_findings_in_sheet_order_as_the_annotated_copy_does(
        environment: jinja2.Environment) -> None:
    warning = Finding(Severity.WARNING, "w", "Pārbaudiet amatu.", sheet="Saraksts", row=6, column=5)
    late = Finding(Severity.ERROR, "e", "Kļūda vēlāk.", sheet="Saraksts", row=9, column=2)
    early = Finding(Severity.ERROR, "e", "Kļūda agrāk.", sheet="Saraksts", row=5, column=2)
    whole = Finding(Severity.ERROR, "i", "Iestāde nav atrasta.")
    decision = Decision("saraksts.xlsx", None, "national", (), (late, warning, early, whole),
                        "Saraksts")

    reply = render(decision, environment)

    assert [n for n, _ in number_findings(decision)] == [1, 2, 3, 4]
    assert [f for _, f in number_findings(decision)] == [whole, early, warning, late]
    errors, _, warnings = reply.text.partition("Ieteicams pārbaudīt")
    assert errors.index("1. Iestāde nav atrasta.") < errors.index("2. Lapā «Saraksts», 5. rindā") \
        < errors.index("4. Lapā «Saraksts», 9. rindā")
    assert "3. Lapā «Saraksts», 6. rindā" in warnings


def test_a_corrected_list_is_thanked_for_once(environment: jinja2.Environment) -> None:
    for decision in (GOOD, BAD):
        reply = render_reply([ReplyItem(decision, earlier_on=date(2026, 3, 1))], environment,
                             programme=PROGRAMME)
        for body in (reply.text, reply.html):
            assert body.count("Paldies") == 1


def test_the_annotated_copy_is_described_in_plain_latvian(environment: jinja2.Environment) -> None:
    reply = render(BAD, environment, annotated=True)

    for body in (reply.text, reply.html):
        assert "iezīmētas sarkanā krāsā" in body
        assert "iekrāsotas" not in body
        assert "ar tādiem pašiem numuriem kā šajā vēstulē" in body


def test_signature_names_the_programme_with_a_capital_and_gives_its_contacts(
        environment: jinja2.Environment) -> None:
    programme = Programme(name="national", title="Supervīzijas Latvijas pedagogiem",
                          phone="+371 60000000", web_page="https://www.ikvd.gov.lv")
    for reply in (render_reply([ReplyItem(GOOD)], environment, programme=programme),
                  render_no_list(environment, programme=programme, blank_name="x.xlsx")):
        assert "\nProgrammas «Supervīzijas Latvijas pedagogiem» koordinācijas komanda\n" in reply.text
        assert "Tālrunis: +371 60000000" in reply.text
        assert "Tīmekļa vietne: https://www.ikvd.gov.lv" in reply.text
        assert "<br>Programmas «Supervīzijas Latvijas pedagogiem» koordinācijas komanda" in reply.html
        assert 'href="https://www.ikvd.gov.lv"' in reply.html
    bare = render_reply([ReplyItem(GOOD)], environment, programme=PROGRAMME)
    assert "Tālrunis" not in bare.text and "Tālrunis" not in bare.html


@pytest.mark.parametrize("decision", [GOOD, BAD], ids=["accepted", "rejected"])
def test_no_capital_follows_a_colon_in_the_findings(environment: jinja2.Environment,
                                                    decision: Decision) -> None:
    reply = render(decision, environment)

    assert not re.search(r"»: [A-ZĀČĒĢĪĶĻŅŠŪŽ][a-zāčēģīķļņšūž]", reply.text)


def test_reply_comes_from_the_named_sender() -> None:
    import email
    import email.policy
    from datetime import UTC, datetime

    from intake.core.replies import Envelope, compose_email

    raw = compose_email(Rendered("Temats", "teksts", "<p>teksts</p>"),
                        Envelope("supervizija@ikvd.example.lv", "b@skola.lv", "<x@ikvd.example.lv>",
                                 datetime(2026, 11, 25, tzinfo=UTC),
                                 sender_name="IKVD supervīziju pieteikumi"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)

    assert parsed["From"] == "IKVD supervīziju pieteikumi <supervizija@ikvd.example.lv>"
    assert parsed["From"].addresses[0].display_name == "IKVD supervīziju pieteikumi"
    assert raw.isascii()
