"""A writer that reads before it writes, many times over: what the daemon and staff commands do
(look a record up, then store), run in several processes at once on one SQLite database."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sqlmodel import Session, func, select

from intake.store.engine import open_engine
from intake.store.tables import ServiceRecord


def main(argv: Sequence[str]) -> int:
    """`URL NAME COUNT`: COUNT transactions, each counting NAME's rows, then adding the next."""
    url, name, count = argv[0], argv[1], int(argv[2])
    engine = open_engine(url)
    try:
        for number in range(count):
            with Session(engine) as session:
                done = session.exec(select(func.count()).select_from(ServiceRecord)
                                    .where(ServiceRecord.value == name)).one()
                assert done == number, (name, done, number)  # our own rows, none lost
                session.add(ServiceRecord(key=f"{name}-{number}", value=name))
                session.commit()
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
