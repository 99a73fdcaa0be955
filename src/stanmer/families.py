"""Response families: what the likelihood is and which links it accepts.

A family is plain data. Code generation, data checks and prediction each
read what they need from it; none of them lives here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FormulaError


@dataclass(frozen=True)
class Family:
    name: str
    link: str
    # Auxiliary (distributional) parameters, e.g. ("sigma",) for gaussian.
    aux: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}({self.link})"


# family name -> (links in order of preference, auxiliary parameters)
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "gaussian": (("identity",), ("sigma",)),
}


def family(name: str | Family = "gaussian", link: str | None = None) -> Family:
    """A Family by name, with its default link unless one is given."""
    if isinstance(name, Family):
        return name if link is None else family(name.name, link)
    key = str(name).lower()
    if key not in FAMILIES:
        raise FormulaError(
            f"unknown family {name!r}; choose one of: {', '.join(sorted(FAMILIES))}"
        )
    links, aux = FAMILIES[key]
    chosen = links[0] if link is None else link
    if chosen not in links:
        raise FormulaError(
            f"family {key} has no link {link!r}; its links are: {', '.join(links)}"
        )
    return Family(key, chosen, aux)
