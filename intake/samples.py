"""Sample participant lists for the demo and the tests: one a school gets right, one it gets wrong."""

from __future__ import annotations

import io

import openpyxl

from intake.core.blank_list import HEADER_ROW, HEADERS, LIST_SHEET

# Invented people: the names are common Latvian names, the addresses on an example domain.
_GOOD = (
    ("Ilze", "Kalniņa", "direktore", "vadītājs"),
    ("Māris", "Ozoliņš", "direktora vietnieks izglītības jomā", "vadītājs"),
    ("Dace", "Liepiņa", "metodiķe", "vadītājs"),
    ("Anna", "Bērziņa", "sākumskolas skolotāja", "pedagogs"),
    ("Jānis", "Kļaviņš", "matemātikas skolotājs", "pedagogs"),
    ("Līga", "Vīķe-Freiberga", "latviešu valodas skolotāja", "pedagogs"),
    ("Edgars", "Zariņš", "sporta skolotājs", "pedagogs"),
    ("Inese", "Krūmiņa", "sociālā pedagoģe", "pedagogs"),
    ("Agnese", "Jansone", "izglītības psiholoģe", "pedagogs"),
    ("Ruta", "Ozola", "logopēde", "pedagogs"),
    ("Kristaps", "Eglītis", "vēstures skolotājs", "pedagogs"),
    ("Sanita", "Āboliņa", "angļu valodas skolotāja", "pedagogs"),
    ("Gints", "Šmits", "ķīmijas skolotājs", "pedagogs"),
    ("Zane", "Ēķe", "pirmsskolas skolotāja", "pedagogs"),
)


def _email(first: str, last: str) -> str:
    table = str.maketrans("āčēģīķļņšūž", "acegiklnsuz")
    return f"{first}.{last}".lower().translate(table) + "@skola.example.lv"


def make_good_list() -> bytes:
    """Fourteen people, three of them leaders: accepted as one leaders' and two educators' groups."""
    return _workbook(
        "Rīgas 12. vidusskola",
        [(first, last, position, category, _email(first, last))
         for first, last, position, category in _GOOD],
    )


def make_faulty_list() -> bytes:
    """The mistakes schools make: each one a finding with its cell."""
    rows: list[tuple[str, str, str, str, str]] = [
        ("Ilze", "Kalniņa", "direktore", "vadītājs", "ilze.kalnina@skola.example.lv"),
        ("Anna", "Bērziņa", "skolotāja", "pedagogs", "anna@@skola.example.lv"),
        ("Jānis2", "Kļaviņš", "skolotājs", "pedagogs", "janis.klavins@skola.example.lv"),
        ("Līga", "Liepa", "", "", "liga.liepa@skola.example.lv"),
        ("Edgars", "Zariņš", "bibliotekārs", "", "edgars.zarins@skola.example.lv"),
        ("ANNA", "BĒRZIŅA", "skolotāja", "pedagogs", "anna.berzina@skola.example.lv"),
    ]
    return _workbook("Ogres tehnikums", rows, footer=True)


def _workbook(institution: str, rows: list[tuple[str, str, str, str, str]], *,
              footer: bool = False) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = LIST_SHEET
    sheet["A1"] = "Dalībnieku saraksts supervīzijai"
    sheet["A2"] = "Izglītības iestāde:"
    sheet["B2"] = institution
    for column, title in enumerate(HEADERS, start=1):
        sheet.cell(HEADER_ROW, column, title)
    for number, (first, last, position, category, email) in enumerate(rows, start=1):
        sheet.append([number, first, last, position or None, category or None, email or None])
    if footer:
        sheet.append([])
        sheet.append([None, "Direktore", "____________", "I. Kalniņa"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def make_sample_emails(to: str) -> list[tuple[str, bytes]]:
    """The demo's mailbox: a good application, a faulty one, an out-of-office, one without a list."""
    from email.message import EmailMessage

    def mail(sender: str, subject: str, body: str, number: int,
             attachment: tuple[str, bytes] | None = None, **headers: str) -> bytes:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = f"Wed, 25 Nov 2026 09:{number:02d}:00 +0200"
        message["Message-ID"] = f"<demo-{number}@skola.example.lv>"
        for name, value in headers.items():
            message[name.replace("_", "-")] = value
        message.set_content(body)
        if attachment:
            message.add_attachment(attachment[1], maintype="application",
                                   subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                   filename=attachment[0])
        return message.as_bytes()

    return [
        ("1-accepted", mail("Sekretāre <sekretare@rigas12.example.lv>",
                            "Pieteikums supervīzijai – Rīgas 12. vidusskola",
                            "Labdien! Pielikumā dalībnieku saraksts.", 1,
                            ("dalībnieku saraksts.xlsx", make_good_list()))),
        ("2-rejected", mail("Direktore <direktore@ogrestehnikums.example.lv>",
                            "Pieteikums: Ogres tehnikums", "Sūtām sarakstu.", 2,
                            ("Ogres tehnikums – saraksts.xlsx", make_faulty_list()))),
        ("3-auto-reply", mail("Jānis Ozols <janis.ozols@skola.example.lv>",
                              "Automātiskā atbilde: Supervīzijas", "Esmu atvaļinājumā.", 3,
                              Auto_Submitted="auto-replied")),
        ("4-no-list", mail("Skolotāja <skolotaja@skola.example.lv>",
                           "Kā pieteikties supervīzijai?", "Labdien, kā varam pieteikties?", 4)),
    ]
