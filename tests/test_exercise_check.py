"""`check(id, answer)`: a check cell that names its exercise checks that exercise, in
whatever order the cells run (issue: right answers marked wrong after Run All)."""
import pytest

from evtsim.errors import BadArgumentError
from evtsim.exercises import all_exercises, check, get


def test_check_names_its_exercise_so_running_others_first_changes_nothing():
    first = get("01-how-many-released")
    wrong_then = check("01-how-many-released", ["w1", "w2", "w3"])
    for other in all_exercises():          # as if Run All had shown every other exercise
        other.check(None)
    assert check("01-how-many-released", ["w1", "w2", "w3"]) == wrong_then
    assert wrong_then == first.check(["w1", "w2", "w3"])


def test_check_of_an_unknown_exercise_says_which_exist():
    with pytest.raises(BadArgumentError, match="there is no exercise '99-none'; there are: 00-"):
        check("99-none", 1)
