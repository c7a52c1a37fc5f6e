"""The thread tuner keeps the faster thread count, quiet or beside a busy program."""

from __future__ import annotations

import pytest

from s1desk.backends.thread_tuner import (
    FIRST_LOOK_TOKENS,
    HOLD_TOKENS,
    MIN_LIMIT,
    OVERRUN,
    PROBE_TOKENS,
    ThreadTuner,
    candidate_threads,
)


def run(tuner: ThreadTuner, step_time: dict[int, float], tokens: int) -> list[int]:
    """Feed ``tokens`` steps whose duration depends on the current count; return the counts."""
    used = []
    for _ in range(tokens):
        used.append(tuner.current)
        tuner.step(step_time[tuner.current])
    return used


@pytest.mark.parametrize(
    ("cores", "expected"), [(1, [1]), (2, [2, 1]), (4, [4, 3]), (8, [4, 3]), (16, [8, 7])]
)
def test_candidates(cores: int, expected: list[int]) -> None:
    assert candidate_threads(cores) == expected


def test_quiet_machine_keeps_all_cores() -> None:
    tuner = ThreadTuner([2, 1])
    used = run(tuner, {2: 0.040, 1: 0.083}, 1000)
    assert tuner.current == 2
    # Exploring the slower count costs at most a probe per hold period.
    assert used.count(1) <= PROBE_TOKENS * (1000 // HOLD_TOKENS + 1)


def test_busy_machine_drops_a_thread() -> None:
    tuner = ThreadTuner([2, 1])
    used = run(tuner, {2: 0.133, 1: 0.080}, 1000)
    assert tuner.current == 1
    assert used[-HOLD_TOKENS // 2 :] == [1] * (HOLD_TOKENS // 2)
    assert used.count(2) <= PROBE_TOKENS * (1000 // HOLD_TOKENS + 2)


def test_a_slowdown_triggers_a_new_look_before_the_hold_ends() -> None:
    tuner = ThreadTuner([2, 1])
    run(tuner, {2: 0.040, 1: 0.083}, 2 * PROBE_TOKENS + 4)
    assert tuner.current == 2
    # Another program starts: 2 threads become slow; within a probe or two the tuner moves.
    used = run(tuner, {2: 0.133, 1: 0.080}, 4 * PROBE_TOKENS)
    assert used[-1] == 1


def test_a_hopeless_candidate_costs_only_a_few_steps() -> None:
    # Beside a busy program 2 threads were 6x slower than 1 here; probing them fully
    # would cost more than any gain.
    tuner = ThreadTuner([2, 1])
    tuner.current = 1
    tuner._start_probe()
    used = run(tuner, {2: 0.600, 1: 0.080}, PROBE_TOKENS + 10)
    assert used.count(2) == 1, "six times slower: dropped after one step"
    assert used[-1] == 1


def test_a_slowdown_probes_only_the_other_count() -> None:
    tuner = ThreadTuner([2, 1])
    run(tuner, {2: 0.040, 1: 0.083}, 2 * PROBE_TOKENS)
    assert tuner.current == 2
    used = run(tuner, {2: 0.400, 1: 0.080}, PROBE_TOKENS + PROBE_TOKENS + 2)
    # Slow steps until the slowdown is seen, then 1 thread is measured (not 2 again).
    assert used.count(2) <= PROBE_TOKENS
    assert used[-1] == 1


def test_a_steady_machine_is_probed_less_and_less() -> None:
    tuner = ThreadTuner([2, 1])
    used = run(tuner, {2: 0.133, 1: 0.080}, 4000)
    # The first probe measures 2 threads fully; later ones, after 64, 128, 256, 512, 1024
    # and 1,024 tokens, drop them after two steps (1.66x slower).
    assert used.count(2) <= PROBE_TOKENS + 2 * 7
    assert tuner.current == 1


def test_a_machine_that_turns_quiet_is_noticed_within_the_first_hold() -> None:
    tuner = ThreadTuner([2, 1])
    run(tuner, {2: 0.133, 1: 0.080}, 2 * PROBE_TOKENS)
    assert tuner.current == 1
    used = run(tuner, {2: 0.040, 1: 0.083}, HOLD_TOKENS + 3 * PROBE_TOKENS)
    assert used[-1] == 2


def test_noise_within_the_margin_does_not_switch() -> None:
    tuner = ThreadTuner([2, 1])
    used = run(tuner, {2: 0.050, 1: 0.049}, 3 * PROBE_TOKENS)
    assert used[:FIRST_LOOK_TOKENS] == [1] * FIRST_LOOK_TOKENS, "the first look starts small"
    assert used[-1] == 1
    tuner = ThreadTuner([2, 1])
    tuner.current = 2
    tuner._start_probe()
    used = run(tuner, {2: 0.049, 1: 0.050}, 3 * PROBE_TOKENS)
    assert used[-1] == 2


def test_one_core_never_switches() -> None:
    tuner = ThreadTuner([1])
    assert run(tuner, {1: 0.1}, 50) == [1] * 50


def test_no_candidates_is_an_error() -> None:
    with pytest.raises(ValueError, match="no thread counts"):
        ThreadTuner([])


def test_two_much_slower_steps_start_a_look_at_once() -> None:
    # Beside a program that just started spinning, 2 threads took 0.7 s a token here
    # against 0.09 s on 1: waiting for 8 such steps would cost 5 s.
    tuner = ThreadTuner([2, 1])
    run(tuner, {2: 0.045, 1: 0.080}, 3 * PROBE_TOKENS)
    assert tuner.current == 2
    used = run(tuner, {2: 0.700, 1: 0.090}, 2 * PROBE_TOKENS)
    assert used.count(2) == 2
    assert used[-1] == 1


def test_a_single_hiccup_is_not_a_busy_machine() -> None:
    tuner = ThreadTuner([2, 1])
    run(tuner, {2: 0.045, 1: 0.080}, 3 * PROBE_TOKENS)
    tuner.step(0.5)
    used = run(tuner, {2: 0.045, 1: 0.080}, 20)
    assert used == [2] * 20


def test_a_machine_that_stays_busy_costs_few_slow_steps() -> None:
    tuner = ThreadTuner([2, 1])
    run(tuner, {2: 0.045, 1: 0.080}, 128)
    used = run(tuner, {2: 0.700, 1: 0.090}, 512)
    # Two slow steps, then one per later look (after 128, 256 tokens: the choice was
    # clear, 1 thread being 7 times faster, so each look waits twice as long).
    assert used.count(2) <= 4
    assert used[-1] == 1


def test_counts_that_others_leave_no_room_for_are_not_tried() -> None:
    free = {"cores": 2}
    tuner = ThreadTuner([2, 1], ceiling=lambda: free["cores"])
    run(tuner, {2: 0.045, 1: 0.080}, 128)
    assert tuner.current == 2
    free["cores"] = 1  # a program starts spinning on one of the two cores
    used = run(tuner, {2: 0.700, 1: 0.090}, 1000)
    assert used.count(2) == 2, "only the two slow steps that show the change"
    assert used[-1] == 1
    free["cores"] = 2  # it ends: the next look tries 2 again
    used = run(tuner, {2: 0.045, 1: 0.080}, 1100)
    assert used[-1] == 2


def test_a_look_when_others_took_a_core_moves_at_once() -> None:
    free: dict[str, int | None] = {"cores": None}  # unknown at first: everything is tried
    tuner = ThreadTuner([2, 1], ceiling=lambda: free["cores"])
    run(tuner, {2: 0.045, 1: 0.080}, 2 * PROBE_TOKENS)
    assert tuner.current == 2
    free["cores"] = 1
    tuner._start_probe()
    assert tuner.current == 1


def test_a_machine_that_turns_busy_during_a_look_is_noticed_within_two_steps() -> None:
    tuner = ThreadTuner([2, 1])
    run(tuner, {2: 0.045, 1: 0.080}, 3 * PROBE_TOKENS)
    tuner._start_probe()  # a periodic look starts by measuring the current count (2)
    used = run(tuner, {2: 0.700, 1: 0.090}, 2 * PROBE_TOKENS)
    assert used.count(2) == 2
    assert used[-1] == 1


def run_guarded(
    tuner: ThreadTuner, step_time: dict[int, float], tokens: int
) -> tuple[list[int], float]:
    """As :func:`run`, with steps stopped at the tuner's limit and redone (the engine's step
    guard); returns the counts and the time all the steps took, stopped ones included."""
    used, total = [], 0.0
    for _ in range(tokens):
        lost = 0.0
        limit = tuner.step_limit()
        while limit is not None and step_time[tuner.current] > limit:
            lost += limit
            tuner.overran(limit)
            limit = tuner.step_limit()
        used.append(tuner.current)
        total += lost + step_time[tuner.current]
        tuner.step(step_time[tuner.current])
    return used, total


def test_the_first_look_starts_on_the_smallest_count_with_no_limit() -> None:
    tuner = ThreadTuner([2, 1])
    assert tuner.current == 1
    assert tuner.step_limit() is None
    assert tuner.settled is None
    used = run(tuner, {2: 0.040, 1: 0.080}, 2 * PROBE_TOKENS)
    assert used.count(1) == FIRST_LOOK_TOKENS, "a quiet machine pays two slow steps once"
    assert tuner.settled == 2
    limit = tuner.step_limit()
    assert limit == pytest.approx(max(OVERRUN * 0.040, MIN_LIMIT))


def test_a_busy_machine_from_the_first_token_costs_one_stopped_step() -> None:
    # Beside a program that had just started spinning, one 2-thread step took 2.5 s here.
    steps = {2: 2.5, 1: 0.070}
    tuner = ThreadTuner([2, 1])
    used, total = run_guarded(tuner, steps, 128)
    assert used[-1] == 1
    assert tuner.settled == 1
    assert total <= 128 * steps[1] * 1.1, "within 10 % of one thread all along"


def test_a_machine_that_turns_busy_mid_answer_costs_a_stopped_step_per_look() -> None:
    tuner = ThreadTuner([2, 1])
    run_guarded(tuner, {2: 0.040, 1: 0.080}, 256)
    assert tuner.current == 2
    steps = {2: 2.5, 1: 0.070}
    used, total = run_guarded(tuner, steps, 512)
    assert used[-1] == 1
    assert total <= 512 * steps[1] * 1.1


def test_a_stopped_step_during_a_look_drops_that_candidate() -> None:
    tuner = ThreadTuner([2, 1])
    run(tuner, {2: 0.040, 1: 0.080}, 2 * PROBE_TOKENS)
    tuner.current = 1
    tuner._start_probe()  # a look from 1 thread: 1 is measured, then 2
    run(tuner, {2: 0.040, 1: 0.080}, PROBE_TOKENS)
    assert tuner.current == 2
    assert tuner.overran(1.0) == 1, "back to the count measured first"
    assert tuner.settled == 1
