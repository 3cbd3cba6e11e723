"""Company-level answers of the company's own declaration: from the ``[company]`` config.

These questions (policy, due diligence, survey, review, ...) are about the company itself,
so no supplier can answer them: each is read from a config key named after the question's
``kind`` (``policy-public`` -> ``policy_public``). The one exception is the survey question:
left unset, it is derived, since the roll-up itself is made from an RMI-template survey.

A value is matched case-insensitively against the answers the layout allows and written in
the layout's own spelling; anything else is a :class:`RollupError` naming the key, so a
typo in the config stops the roll-up instead of becoming an invalid answer in the file.
"""

from __future__ import annotations

from collections.abc import Mapping

from plugins.layouts import CompanyQuestion

#: Minerals an EMRT 2.x form can select: each has its own ``validated_sourcing_<mineral>`` key.
VALIDATED_MINERALS: tuple[str, ...] = ("Cobalt", "Copper", "Graphite", "Lithium", "Mica", "Nickel")

#: Every ``[company]`` config key the rules read (answers and their comments).
COMPANY_KEYS: tuple[str, ...] = (
    "policy",
    "policy_public",
    "policy_url",
    "validated_sourcing",
    *(f"validated_sourcing_{m.lower()}" for m in VALIDATED_MINERALS),
    "due_diligence",
    "survey",
    "survey_description",
    "review",
    "corrective_action",
    "disclosure",
    "policy_scope",
    "supplier_due_diligence",
)


class RollupError(ValueError):
    """The ``[company]`` config gives an answer the template does not allow."""


def config_key(kind: str, mineral: str = "") -> str:
    """``policy-public`` -> ``policy_public``; with a mineral, ``validated_sourcing_cobalt``."""
    key = kind.replace("-", "_")
    return f"{key}_{mineral.strip().lower().replace(' ', '_')}" if mineral else key


def company_answer(
    cq: CompanyQuestion, mineral: str, company: Mapping[str, str], surveyed: int
) -> tuple[str, str, str]:
    """(answer, rule, comment) of one company question (one mineral row of a split one)."""
    keys = [config_key(cq.kind, mineral), config_key(cq.kind)] if mineral else [config_key(cq.kind)]
    key = next((k for k in keys if str(company.get(k, "")).strip()), "")
    comment = _comment(cq, company)
    if not key:
        if cq.kind == "survey" and surveyed > 0:
            answer = _ipc_survey(cq)
            if answer:
                return (
                    answer,
                    f"Assay ran the survey with the RMI template ({surveyed} suppliers asked); "
                    "[company] survey is not set",
                    "",
                )
        return "", f"not set in [company] {keys[0]}", ""
    answer = _allowed(cq, key, str(company[key]))
    if cq.other_format and answer == cq.other_format and not comment:
        raise RollupError(
            f"[company] {key} = {answer!r} needs a description: set [company] survey_description"
        )
    if cq.kind == "survey" and answer != cq.other_format:
        comment = ""
    return answer, f"[company] {key} = {answer!r}", comment


def _allowed(cq: CompanyQuestion, key: str, value: str) -> str:
    wanted = " ".join(value.split()).casefold()
    for option in cq.allowed:
        if option.casefold() == wanted:
            return option
    choices = " / ".join(cq.allowed)
    raise RollupError(
        f"[company] {key} = {value!r} is not an answer to question {cq.id} ({choices})"
    )


def _comment(cq: CompanyQuestion, company: Mapping[str, str]) -> str:
    if cq.kind == "policy-public":
        return str(company.get("policy_url", "")).strip()
    if cq.kind == "survey":
        return str(company.get("survey_description", "")).strip()
    return ""


def _ipc_survey(cq: CompanyQuestion) -> str:
    """The layout's own spelling of "Yes, with the RMI template" (IPC1755; CRT: "Yes, CRT")."""
    return next((a for a in cq.allowed if a.startswith("Yes") and a != cq.other_format), "")
