"""CellLedger: distinct cells of llama.cpp sequences that share prefixes, counted once."""

from ratiocinator.models.kvcells import CellLedger


def _feed(ledger: CellLedger, seq: int, start: int, n: int) -> None:
    for pos in range(start, start + n):
        ledger.fed(seq, pos)


def test_copies_share_cells_and_tails_add():
    ledger = CellLedger()
    _feed(ledger, 0, 0, 3000)
    for seq in (1, 2, 3):  # three prompts that extend the same 3,000 tokens by 40 each
        ledger.copy(0, seq, 3000)
        _feed(ledger, seq, 3000, 40)
    assert ledger.cells() == 3000 + 3 * 40
    assert ledger.cells([1, 2]) == 3000 + 2 * 40
    ledger.remove(0)  # the source goes; its cells stay held by the copies
    assert ledger.cells() == 3000 + 3 * 40
    assert ledger.cells([3]) == 3040


def test_a_partial_copy_holds_a_prefix_and_its_own_tail():
    ledger = CellLedger()
    _feed(ledger, 0, 0, 100)
    ledger.copy(0, 1, 60)
    _feed(ledger, 1, 60, 10)  # diverges after 60 tokens
    assert ledger.cells([1]) == 70
    assert ledger.cells() == 110
    ledger.remove(0)
    assert ledger.cells() == 70  # the 40 cells only seq 0 held are free


def test_the_source_growing_after_a_copy_is_not_held_by_the_copy():
    ledger = CellLedger()
    _feed(ledger, 0, 0, 50)
    ledger.copy(0, 1)  # a sibling sample of the same prompt
    _feed(ledger, 0, 50, 20)
    _feed(ledger, 1, 50, 5)
    assert ledger.cells([1]) == 55
    assert ledger.cells([0]) == 70
    assert ledger.cells() == 75
    ledger.clear()
    assert ledger.cells() == 0


def test_a_copy_of_a_copy_chains_spans():
    ledger = CellLedger()
    _feed(ledger, 0, 0, 10)
    ledger.copy(0, 1, 10)
    _feed(ledger, 1, 10, 10)
    ledger.copy(1, 2, 15)
    _feed(ledger, 2, 15, 1)
    ledger.remove(0)
    ledger.remove(1)
    assert ledger.cells() == 16
