"""Which blocks of rowids an extract copies again, and when it stops trusting the digests."""

import duckdb

from alpha_migrate.raw_blocks import BLOCK_ROWS, INT64_MAX, INT64_MIN, block_of, plan, range_condition

B = BLOCK_ROWS
SOURCE = {0: (10, "a"), 1: (10, "b"), 2: (10, "c"), 3: (4, "d")}


def test_only_blocks_whose_digest_differs_are_copied():
    staged = {**SOURCE, 3: (3, "x")}
    chosen = plan(SOURCE, staged, staged_rows=33)
    assert (chosen.full, chosen.changed, chosen.rows_to_copy, chosen.source_rows) == (False, [3], 4, 34)
    assert chosen.ranges() == [(3 * B, 4 * B - 1)]


def test_new_and_vanished_blocks_are_changes_and_neighbours_merge():
    source = {**SOURCE, 4: (1, "e")}
    staged = {0: (10, "a"), 1: (10, "b"), 2: (10, "c"), 3: (4, "d"), 9: (2, "z")}
    chosen = plan(source, staged, staged_rows=36)
    assert chosen.changed == [4, 9]
    assert chosen.rows_to_copy == 1
    # no block lies between 4 and 9: one range
    assert chosen.ranges() == [(4 * B, 10 * B - 1)]
    ten = {block: (10, str(block)) for block in range(10)}
    chosen = plan(ten, {**ten, 3: (10, "x"), 4: (10, "y"), 7: (10, "z")}, staged_rows=100)
    assert chosen.ranges() == [(3 * B, 5 * B - 1), (7 * B, 8 * B - 1)]


def test_ranges_hold_at_most_a_chunk_of_rows_and_stay_in_64_bits():
    extremes = {INT64_MIN // B: (1, "lo"), -1: (3, "n"), 0: (4, "z"), INT64_MAX // B: (2, "hi")}
    chosen = plan(extremes, {}, staged_rows=0)
    assert chosen.full
    assert chosen.ranges() == [(INT64_MIN, INT64_MAX)]
    assert chosen.ranges(chunk_rows=4) == [(INT64_MIN, -1), (0, B - 1), (INT64_MAX // B * B, INT64_MAX)]


def test_blocks_round_down_for_negative_rowids():
    rowids = [INT64_MIN, -10001, -10000, -1, 0, 9999, 10000, INT64_MAX]
    blocks = duckdb.sql(f"select {block_of('r')} from unnest({rowids}::bigint[]) t(r)").fetchall()
    assert [b for (b,) in blocks] == [r // B for r in rowids]


def test_range_conditions_leave_out_the_ends_of_the_64_bit_range():
    assert range_condition("id", INT64_MIN, INT64_MAX) == "(true)"
    assert range_condition("id", -5, INT64_MAX) == "(id >= -5)"
    assert range_condition("id", 0, 9) == "(id >= 0 and id <= 9)"


def test_digests_that_do_not_account_for_the_table_are_not_trusted():
    # e.g. the raw table was emptied by hand, or never had digests written
    assert plan(SOURCE, SOURCE, staged_rows=0).full
    assert plan(SOURCE, {}, staged_rows=0).full


def test_mostly_changed_tables_are_copied_whole():
    staged = {0: (10, "a"), 1: (10, "x"), 2: (10, "y"), 3: (4, "z")}
    chosen = plan(SOURCE, staged, staged_rows=34)
    assert chosen.full and chosen.changed == [0, 1, 2, 3] and chosen.rows_to_copy == 34
    assert plan(SOURCE, SOURCE, staged_rows=34).changed == []
