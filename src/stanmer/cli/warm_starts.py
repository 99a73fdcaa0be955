"""Warm starts across a batch (`stanmer batch --warm-start`).

The models of one Stan program form a group. Its first model (the leader)
runs with the full warmup; when it has finished, the rest of the group
start from its adapted metric, step size and last draws (stanmer.warm_start)
with a 300-iteration warmup (stanmer.warm_start says why). If the leader fails, the next model of the
group leads. Models whose program cannot be built here, and models fitted by
another method than NUTS, run on their own. The local process pool and Dask
both schedule through this one order.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Iterable, Mapping

from ..results.persist import ADAPTATION_FILE
from .fitting import FitRequest
from .model_task import ModelResult


class WarmStartOrder:
    """Which requests may run now, and which wait for their group's leader."""

    def __init__(self, requests: Iterable[FitRequest], programs: Mapping[str, str | None]) -> None:
        self.ready: list[FitRequest] = []
        self._waiting: dict[str, list[FitRequest]] = {}  # program -> the group's models after its leader
        self._leading: dict[str, str] = {}  # leader's name -> its program
        for request in requests:
            program = programs.get(request.name)
            if program is None or request.options.get("method", "sample") != "sample":
                self.ready.append(request)
            elif program in self._waiting:
                self._waiting[program].append(request)
            else:
                self._waiting[program] = []
                self._leading[request.name] = program
                self.ready.append(request)

    @property
    def held(self) -> int:
        """Models waiting for their leader."""
        return sum(len(group) for group in self._waiting.values())

    def waiting(self) -> list[FitRequest]:
        return [request for group in self._waiting.values() for request in group]

    def finished(self, request: FitRequest, result: ModelResult) -> list[FitRequest]:
        """The requests `request`'s end lets run: its group, warm, or the next leader."""
        program = self._leading.pop(request.name, None)
        if program is None:
            return []
        group = self._waiting.pop(program)
        adaptation = result.files.get(ADAPTATION_FILE)
        if adaptation is None:  # the leader failed: the next model leads, cold
            if not group:
                return []
            leader, *rest = group
            self._waiting[program] = rest
            self._leading[leader.name] = program
            return [leader]
        saved = json.loads(adaptation)
        return [replace(member, warm_start=(request.name, saved)) for member in group]
