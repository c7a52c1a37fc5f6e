"""What a run asks for: budgets, mode, samples, and the request each generation gets."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from s1desk.backends.base import GenerationRequest
from s1desk.lab.errors import LabError
from s1desk.lab.questions import Question
from s1desk.sampling import SamplerSettings
from s1desk.thinking.format import DEFAULT_SYSTEM_PROMPT
from s1desk.thinking.policy import BudgetPolicy

DEFAULT_BUDGETS = (0, 512, 1024, 2048, 4096)


class Mode(StrEnum):
    """How a budget bounds thinking."""

    #: The budget is a maximum: thinking is cut there (s1's sequential scaling with a cap).
    CAP = "cap"
    #: The budget is exact: cut there, and "Wait" whenever the model stops early.
    FORCE = "force"


@dataclass(frozen=True, slots=True)
class EvalPlan:
    """The settings of a run; two runs with equal plans may share an output directory."""

    budgets: tuple[int, ...] = DEFAULT_BUDGETS
    mode: Mode = Mode.CAP
    samples: int = 1
    temperature: float = 0.0
    seed: int = 0
    max_answer: int = 1024
    system_prompt: str = DEFAULT_SYSTEM_PROMPT

    def __post_init__(self) -> None:
        if not self.budgets:
            raise LabError("no budgets: give at least one, e.g. --budgets 0,512,1024")
        if any(b < 0 for b in self.budgets):
            raise LabError(f"budgets must be 0 or more: {list(self.budgets)}")
        if len(set(self.budgets)) != len(self.budgets):
            raise LabError(f"a budget is repeated: {list(self.budgets)}")
        if self.samples < 1:
            raise LabError(f"--samples must be 1 or more, not {self.samples}")
        if self.max_answer < 1:
            raise LabError(f"the answer needs at least 1 token, not {self.max_answer}")
        self.sampler(0)  # validates the temperature

    def policy(self, budget: int) -> BudgetPolicy:
        """The budget policy for ``budget``: a cap, or (force) a cap and an equal minimum.

        Forcing allows as many Waits as the budget has tokens, so thinking
        always reaches the budget (control 100%), however often the model stops.
        """
        if self.mode is Mode.FORCE:
            return BudgetPolicy(
                max_thinking=budget,
                min_thinking=budget,
                max_waits=budget,
                max_answer=self.max_answer,
            )
        return BudgetPolicy(max_thinking=budget, min_thinking=0, max_answer=self.max_answer)

    def sampler(self, sample: int) -> SamplerSettings:
        """Sample ``sample``'s settings: its own seed, so a resumed run draws the same."""
        return SamplerSettings(temperature=self.temperature, seed=self.seed + sample)

    def request(self, question: Question, budget: int, sample: int) -> GenerationRequest:
        return GenerationRequest(
            question=question.prompt,
            system_prompt=self.system_prompt,
            policy=self.policy(budget),
            sampler=self.sampler(sample),
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["budgets"] = list(self.budgets)
        data["mode"] = self.mode.value
        return data
