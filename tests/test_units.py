"""One time unit for learners: microseconds (evtsim.units)."""
import pytest

from evtsim.units import time_us


@pytest.mark.parametrize("ticks, shown", [(0, "0 µs"), (30, "3 µs"), (15, "1.5 µs"),
                                          (10030, "1,003 µs"), (-20, "-2 µs"),
                                          (float("inf"), "for ever")])
def test_time_reads_in_microseconds_with_at_most_one_decimal(ticks, shown):
    assert time_us(ticks) == shown


def test_a_time_that_is_not_a_number_is_refused():
    with pytest.raises(TypeError, match="100 ns units"):
        time_us("30")
