"""Company-level questions (A-H in CMRT, A-G in EMRT, A-I in CRT; AMRT has none)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.hookspecs import hookimpl
from plugins.models import Answer, Declaration, Finding
from plugins.scope import any_in_scope, layout_of

# A "No" to these is a gap in the supplier's own due diligence.
EXPECT_YES = {
    "policy",
    "policy-public",
    "validated-sourcing",
    "due-diligence",
    "survey",
    "review",
    "corrective-action",
    "policy-scope",
    "supplier-due-diligence",
}
_URL = re.compile(
    r"(https?://|www\.)\S+|\b[\w-]+(\.[\w-]+)+/\S*|\b[\w-]+\.(com|org|net|de|cn|jp|kr|tw|co|io|eu)\b",
    re.IGNORECASE,
)


def _has_url(ans: Answer) -> bool:
    """A web address in the comment text, or a comment cell that links to a web page."""
    if ans.comment_url.lower().startswith(("http://", "https://")):
        return True
    return bool(_URL.search(ans.comment))


def run(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    layout = layout_of(decl)
    if not layout.company_questions:
        return
    required = any_in_scope(decl)
    for cq in layout.company_questions:
        for ans in [
            a
            for a in decl.company_answers
            if a.question == cq.id and (not cq.mineral or a.mineral == cq.mineral)
        ]:
            label = f"Question {cq.id}" + (f" ({ans.mineral})" if ans.mineral else "")
            where = {
                "sheet": "Declaration",
                "cell": ans.cell,
                "field": cq.id,
                "mineral": ans.mineral,
            }
            if not ans.value:
                if required:
                    yield CHECK.finding(
                        "unanswered-company-question", f"{label} is unanswered: {cq.text}", **where
                    )
                continue
            if ans.value not in cq.allowed:
                yield CHECK.finding(
                    "invalid-answer",
                    f"{label}: {ans.raw!r} is not an allowed answer ({' / '.join(cq.allowed)}).",
                    **where,
                )
                continue
            if ans.value == "No" and cq.kind in EXPECT_YES:
                yield CHECK.finding(
                    "company-question-no", f"{label} answered 'No': {cq.text}", **where
                )
            if cq.kind == "policy-public" and ans.value == "Yes" and not _has_url(ans):
                yield CHECK.finding(
                    "policy-url-missing",
                    f"{label}: you declared that your sourcing policy is public, but the comment "
                    f"cell {ans.comment_cell} gives no web address for it. Please write its URL "
                    "there (or make the cell a link to it).",
                    sheet="Declaration",
                    cell=ans.comment_cell,
                    field=cq.id,
                )
            if cq.other_format and ans.value == cq.other_format and not ans.comment:
                yield CHECK.finding(
                    "unanswered-company-question",
                    f"{label}: the survey uses another format; please describe it in the comment cell.",
                    sheet="Declaration",
                    cell=ans.comment_cell,
                    field=cq.id,
                )


CHECK = Check(
    id="company-questions",
    run=run,
    codes={
        "unanswered-company-question": "error",
        "invalid-answer": "error",
        "company-question-no": "warning",
        "policy-url-missing": "warning",
    },
    version="2",
    description="Company-level due-diligence questions: completeness, allowed answers, 'No' answers, policy URL.",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
