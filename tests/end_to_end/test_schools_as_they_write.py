"""Correct applications in the shapes schools really send are confirmed, through the real loop.

Each mail names its school only the way people do (a sentence, the genitive, a signature, a
forward, HTML alone, the address), and each list carries what real lists carry (a signature block,
a date, two sheets, English headers, names in other scripts): one poll, every one confirmed, each
stored under the registry's name of its school."""

from __future__ import annotations

from tests.support.clients import (
    Original,
    apple_mail_forward,
    attached_forward,
    gmail_forward,
    html_only_mail,
    outlook_mail,
    thunderbird_reply,
)
from tests.support.lists import (
    CLOSINGS,
    ENGLISH,
    ENGLISH_FIRST_LAST,
    FOREIGN_MEMBERS,
    SIGNATURE_AND_DATE,
    leaders,
    list_sheet,
    members,
    write,
)

NO_TITLE = (("Dalībnieku saraksts supervīzijai",), ())
XLSX = "dalībnieku saraksts.xlsx"


def _list(*sheets: object, writer: str = "openpyxl") -> tuple[str, bytes]:
    return XLSX, write(list(sheets), writer=writer)  # type: ignore[arg-type]


def _applications() -> dict[str, tuple[str, bytes]]:
    """Sender address -> (the registry's name of the school, the raw mail)."""
    mails: dict[str, tuple[str, bytes]] = {}

    sender = "Lietvede <lietvede@skola1.example.lv>"
    mails["lietvede@skola1.example.lv"] = ("Daugavpils 12. vidusskola", outlook_mail(
        sender=sender, subject="Pieteikums supervīzijai",
        body="Labdien!\r\n\r\nDaugavpils 12. vidusskola piesaka pedagogu grupu supervīzijai. "
             "Pielikumā dalībnieku saraksts.",
        signature="Ar cieņu\r\nLīga Ozola\r\nlietvede\r\ntālr. 65412345",
        attachments=[_list(list_sheet(members(6, start=101), above=NO_TITLE,
                                      below=SIGNATURE_AND_DATE))]))

    mails["direktore@skola2.example.lv"] = ("Ogres 1. vidusskola", outlook_mail(
        sender="Inese Liepa <direktore@skola2.example.lv>", subject="Supervīzija",
        body="Labdien!\r\n\r\nOgres 1. vidusskolas pedagogi vēlas piedalīties supervīzijā. "
             "Saraksts pielikumā.",
        attachments=[_list(list_sheet(members(7, start=201), name="1. grupa", above=NO_TITLE),
                           list_sheet(members(6, start=221), name="2. grupa", above=NO_TITLE),
                           writer="xlsxwriter")]))

    mails["sekretare@skola3.example.lv"] = ("Rīgas 1. vidusskola", thunderbird_reply(
        sender="Sekretāre <sekretare@skola3.example.lv>", subject="Re: Заявка на супервизию",
        body="Labdien, sūtām sarakstu.\r\n\r\n--\r\nRīgas 1. vidusskola\r\nlietvedība, tālr. 67000000",
        original=Original(sender="Kolēģe <kolege@skola3.example.lv>",
                          subject="Заявка на супервизию", body="Добрый день! Нужен список."),
        attachments=[_list(list_sheet([*members(3, start=301), *FOREIGN_MEMBERS],
                                      header=ENGLISH, above=NO_TITLE,
                                      below=CLOSINGS["approval"]))]))

    original = Original(sender="Direktore <direktore@skola4.example.lv>",
                        subject="Pieteikums: Valmieras 2. vidusskola",
                        body="Valmieras 2. vidusskola piesaka divas grupas supervīzijai.")
    mails["metodikis@novads.example.lv"] = ("Valmieras 2. vidusskola", gmail_forward(
        sender="Metodiķis <metodikis@novads.example.lv>", subject="Fwd: Pieteikums",
        body="Pārsūtu skolas pieteikumu.", original=original,
        attachments=[_list(list_sheet([*leaders(3, start=401), *members(8, start=411)],
                                      header=ENGLISH_FIRST_LAST, above=NO_TITLE,
                                      below=(*CLOSINGS["total-words"], (),
                                             *CLOSINGS["place-date"], *CLOSINGS["stamp"])))]))

    mails["info@skola5.example.lv"] = ("Valmieras 5. vidusskola", html_only_mail(
        sender="Skola <info@skola5.example.lv>", subject="Pieteikums",
        markup="<p>Labdien!</p><p>Pielikumā <b>Valmieras 5. vidusskolas</b> pedagogu saraksts "
               "supervīzijai.</p><div>Ar cieņu,<br>direktores vietniece<br>Dace Siliņa</div>",
        attachments=[_list(list_sheet(members(5, start=501), above=NO_TITLE,
                                      below=CLOSINGS["signature-title-full-name"]))]))

    inner = outlook_mail(sender="Direktors <direktors@skola6.example.lv>",
                         subject="Pieteikums supervīzijai",
                         body="Labdien! Ogres tehnikums piesaka pedagogus supervīzijai.")
    mails["palidze@skola6.example.lv"] = ("Ogres tehnikums", attached_forward(
        sender="Palīdze <palidze@skola6.example.lv>", subject="Fw: Pieteikums supervīzijai",
        body="Pārsūtu.", original=inner,
        attachments=[_list(list_sheet(members(4, start=601), above=NO_TITLE,
                                      below=CLOSINGS["prepared-by-cells"]))]))

    mails["kanceleja@skola7.example.lv"] = ("Daugavpils 12. vidusskola", apple_mail_forward(
        sender="Kanceleja <kanceleja@skola7.example.lv>", subject="Fwd: supervīzija",
        body="Nosūtu vēlreiz.",
        original=Original(sender="Direktore <dir@skola7.example.lv>", subject="supervīzija",
                          body="Daugavpils 12. vidusskolas pedagogu saraksts pielikumā."),
        attachments=[_list(list_sheet(members(3, start=701), above=NO_TITLE,
                                      below=CLOSINGS["date-cell"]))]))
    return mails


def test_correct_applications_as_schools_write_them_are_all_confirmed(intake, mailbox_server, smtp):
    applications = _applications()
    for _, raw in applications.values():
        mailbox_server.append(raw)

    intake("poll")

    replies = {r.recipients[0]: r.message for r in smtp.inbox.wait_for(len(applications))}
    assert set(replies) == set(applications)
    for sender, reply in replies.items():
        body = reply.get_body(("plain",)).get_content()
        assert "ir pārbaudīts un pieņemts" in body, (sender, body)
    stored = dict(intake.rows("select sender, institution from applications a "
                              "join messages m on m.id = a.message_row"))
    assert stored == {sender: school for sender, (school, _) in applications.items()}
    # Every person of every sheet, and no signature, date or total among them.
    assert intake.rows("select count(*) from participants") == [(6 + 13 + 7 + 11 + 5 + 4 + 3,)]
