"""Renders a decision as the Latvian reply a school receives (text and HTML), via Jinja2 templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from intake.config import Programme
from intake.model import Decision, Finding, GroupKind


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def make_environment(templates_dir: Path) -> jinja2.Environment:
    """The templates' environment: HTML escaped, text not, undefined names an error."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["plural"] = plural
    environment.filters["where"] = describe_location
    environment.filters["what"] = describe_problem
    environment.globals["GroupKind"] = GroupKind
    return environment


def plural(count: int, one: str, many: str) -> str:
    """Latvian number agreement: 1, 21, 31 … take the singular; 11 and the rest the plural."""
    return one if count % 10 == 1 and count % 100 != 11 else many


def describe_location(finding: Finding) -> str:
    """`lapa «Saraksts», rinda 7, kolonna D (E-pasts)` — as much of it as the finding knows."""
    parts = []
    if finding.sheet:
        parts.append(f"lapa «{finding.sheet}»")
    if finding.row is not None:
        parts.append(f"rinda {finding.row}")
    if finding.column is not None:
        title = f" ({finding.column_title})" if finding.column_title else ""
        parts.append(f"kolonna {finding.column_letter}{title}")
    return ", ".join(parts)


def describe_problem(finding: Finding) -> str:
    """The message, preceded by the value found unless the message already quotes it."""
    if finding.value and f"«{finding.value}»" not in finding.message:
        return f"«{finding.value}»: {finding.message}"
    return finding.message


def render_decision(decision: Decision, environment: jinja2.Environment, *,
                    programme: Programme, annotated: bool) -> Rendered:
    """A confirmation for an accepted list, an error report for a rejected one."""
    name = "confirmation" if decision.accepted else "rejection"
    context = {"decision": decision, "programme": programme, "annotated": annotated}
    subject = environment.get_template(f"{name}.subject.txt").render(context).strip()
    return Rendered(
        subject=" ".join(subject.split()),
        text=environment.get_template(f"{name}.txt").render(context),
        html=environment.get_template(f"{name}.html").render(context),
    )
