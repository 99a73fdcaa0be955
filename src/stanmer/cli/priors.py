"""The command line's prior syntax: `[CLASS[:GROUP][[COEF]]:]DISTRIBUTION`.

The distribution comes after the last colon outside brackets, so factor
names (`site:year`) and coefficient names (`x:z`, `gender[male]`) may hold
colons and brackets of their own.
"""

from __future__ import annotations

from ..errors import PriorError
from ..priors import CLASS_SUPPORT, DISTRIBUTIONS, Prior, prior

PRIOR_SYNTAX = """\
prior syntax: [CLASS[:GROUP][[COEF]]:]DISTRIBUTION (CLASS defaults to b)
  normal(0, 5)                             every population effect (class b)
  b[score_semi]:normal(0, 1)               one population coefficient
  Intercept:normal(60, 20)                 the intercept
  sigma:student_t(3, 0, 20)                the residual sd
  sd:athlete_id:student_t(3, 0, 10)        the sds of athlete_id's effects
  sd:athlete_id[Intercept]:exponential(0.1)  one of those sds
  cor:athlete_id:lkj(2)                    the correlations of athlete_id's effects
classes: {classes}
distributions: {distributions}""".format(classes=", ".join(CLASS_SUPPORT), distributions=", ".join(DISTRIBUTIONS))


def parse_prior(text: str) -> Prior:
    """A Prior from command-line text, e.g. "sd:athlete_id:student_t(3, 0, 10)"."""
    target, distribution = _split_last_colon(text)
    cls, group, coef = _parse_target(text, target)
    try:
        return prior(distribution, cls, coef=coef, group=group)
    except PriorError as error:
        raise PriorError(f"{error} (in the prior {text!r})") from None


def _split_last_colon(text: str) -> tuple[str, str]:
    """(target, distribution) split at the last colon outside brackets and parentheses."""
    depth = 0
    for position in range(len(text) - 1, -1, -1):
        char = text[position]
        depth += char in ")]"
        depth -= char in "(["
        if char == ":" and depth == 0:
            return text[:position].strip(), text[position + 1 :].strip()
    return "", text.strip()


def _parse_target(text: str, target: str) -> tuple[str, str | None, str | None]:
    """(class, group, coef) from "CLASS[:GROUP][[COEF]]"; an empty target is class b."""
    coef = None
    if target.endswith("]"):
        opening = _matching_bracket(target)
        if opening is None:
            raise _syntax_error(text, "its [COEF] has no opening '['")
        target, coef = target[:opening].strip(), target[opening + 1 : -1].strip()
        if not coef:
            raise _syntax_error(text, "the brackets name no coefficient")
    cls, _, group = (part.strip() for part in target.partition(":"))
    if target and not cls:
        raise _syntax_error(text, "it names no class before ':'")
    return cls or "b", group or None, coef


def _matching_bracket(target: str) -> int | None:
    """Position of the '[' that closes with the final ']'."""
    depth = 0
    for position in range(len(target) - 1, -1, -1):
        depth += target[position] == "]"
        depth -= target[position] == "["
        if depth == 0:
            return position
    return None


def _syntax_error(text: str, problem: str) -> PriorError:
    return PriorError(
        f"cannot read the prior {text!r}: {problem}; write [CLASS[:GROUP][[COEF]]:]DISTRIBUTION, "
        "e.g. 'sd:athlete_id:student_t(3, 0, 10)'"
    )
