"""Formatting of Stan source lines, shared by code generation and the group-term kinds."""


def decl(statement: str, comment: str = "") -> str:
    """A declaration or statement with an optional trailing comment."""
    return f"{statement}  // {comment}" if comment else statement
