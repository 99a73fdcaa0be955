"""The sections of a Stan program, filled piece by piece and printed once."""

from __future__ import annotations

from dataclasses import dataclass, field

INDENT = "  "

# Stan's blocks in the order a program must list them.
BLOCK_ORDER = (
    "functions",
    "data",
    "transformed data",
    "parameters",
    "transformed parameters",
    "model",
    "generated quantities",
)


@dataclass
class Program:
    """Lines per block. Each model part adds its lines; `render` prints them."""

    header: list[str] = field(default_factory=list)
    blocks: dict[str, list[str]] = field(default_factory=lambda: {name: [] for name in BLOCK_ORDER})

    def add(self, block: str, *lines: str) -> None:
        self.blocks[block].extend(lines)

    def prepend(self, block: str, *lines: str) -> None:
        """Lines that must come before the block's others (locals its statements read)."""
        self.blocks[block][:0] = lines

    prior_data: list[str] = field(default_factory=list)

    def render(self) -> str:
        out = [f"// {line}" if line else "//" for line in self.header]
        for name in BLOCK_ORDER:
            body = self.blocks[name]
            if name == "data" and self.prior_data:
                body = body + ["// prior hyperparameters: data, so new numbers reuse the program"] + self.prior_data
            if not body:
                continue
            out.append(f"{name} {{")
            out.extend(INDENT + line if line else "" for line in body)
            out.append("}")
        return "\n".join(out) + "\n"

