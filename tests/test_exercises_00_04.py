"""The exercises of lessons 00-04: each checker accepts the right answer and rejects the
common wrong ones with a reason; each hint ladder ends with the answer. (That the
notebooks use only exercises that exist is checked in test_notebooks.py.)

The tests call the very checkers the notebooks call, through `get(id).check(answer)`.
"""

import pytest

from evtsim.api.kernel import (IO_NO_INCREMENT, IRP_MJ_CLEANUP, ExEventObjectType,
                               KernelMode)
from evtsim.exercises import all_exercises, get
from evtsim.status import (EVENT_MODIFY_STATE, STATUS_ACCESS_DENIED, STATUS_INVALID_HANDLE,
                           STATUS_OBJECT_TYPE_MISMATCH, STATUS_SUCCESS, STATUS_TIMEOUT,
                           SYNCHRONIZE)

MS = 10_000
IDS = ["00-set-returns", "00-write-a-waiter", "01-how-many-released", "01-sync-released",
       "01-state-after", "02-first-wait", "02-one-per-signal", "02-irql",
       "02-fix-use-after-close", "02-null", "03-poll", "03-clear-vs-reset", "03-set-then-close",
       "04-failures", "04-dispatch", "04-cleanup", "04-inverted"]


def accepts(exercise_id, answer):
    feedback = get(exercise_id).check(answer)
    assert feedback.ok, f"{exercise_id} refused the right answer {answer!r}: {feedback.message}"
    assert feedback.message


def rejects(exercise_id, answer, *words):
    feedback = get(exercise_id).check(answer)
    assert not feedback.ok, f"{exercise_id} accepted the wrong answer {answer!r}"
    assert feedback.message.strip(), f"{exercise_id} gave no reason for {answer!r}"
    for word in words:
        assert word in feedback.message, (exercise_id, answer, feedback.message)


# --- every exercise --------------------------------------------------------------------
def test_every_exercise_of_lessons_00_to_04_is_registered():
    registered = {e.id for e in all_exercises()}
    assert set(IDS) <= registered


@pytest.mark.parametrize("exercise_id", IDS)
def test_hint_ladder_has_two_hints_then_the_answer(exercise_id):
    exercise = get(exercise_id)
    exercise._next_hint = 0
    assert len(exercise.hints) >= 2
    ladder = [exercise.hint() for _ in range(len(exercise.hints) + 1)]
    assert ladder[-1] == f"Answer: {exercise.answer}"
    assert all(not step.startswith("Answer:") for step in ladder[:-1])
    assert exercise.hint() == ladder[-1]          # it stays on the answer
    exercise._next_hint = 0


@pytest.mark.parametrize("exercise_id", IDS)
def test_an_unanswered_cell_is_refused_without_giving_the_answer_away(exercise_id):
    feedback = get(exercise_id).check(None)
    assert not feedback.ok
    assert "None" in feedback.message
    assert get(exercise_id).answer not in feedback.message


# --- 00 ----------------------------------------------------------------------------------
def test_00_set_on_a_signaled_event_returns_1():
    accepts("00-set-returns", 1)
    rejects("00-set-returns", 0, "before")
    rejects("00-set-returns", True, "number")
    rejects("00-set-returns", 3, "count")
    rejects("00-set-returns", "STATUS_SUCCESS", "NTSTATUS")


def waiter_right(k, ev):
    status = yield k.KeWaitForSingleObject(ev, 0, KernelMode, False, None)
    return status


def waiter_polls(k, ev):
    status = yield k.KeWaitForSingleObject(ev, 0, KernelMode, False, 0)
    return status


def waiter_no_yield(k, ev):
    status = k.KeWaitForSingleObject(ev, 0, KernelMode, False, None)
    yield k.KeReadStateEvent(ev)
    return status


def waiter_no_return(k, ev):
    yield k.KeWaitForSingleObject(ev, 0, KernelMode, False, None)


def waiter_not_a_generator(k, ev):
    return k.KeWaitForSingleObject(ev, 0, KernelMode, False, None)


def test_00_a_waiting_thread_is_a_generator_that_yields_its_wait():
    accepts("00-write-a-waiter", waiter_right)
    rejects("00-write-a-waiter", waiter_polls, "STATUS_TIMEOUT")
    rejects("00-write-a-waiter", waiter_no_yield, "MissingYieldError")
    rejects("00-write-a-waiter", waiter_no_return, "returned nothing")
    rejects("00-write-a-waiter", waiter_not_a_generator, "generator")
    rejects("00-write-a-waiter", waiter_right(None, None), "function")


# --- 01 ----------------------------------------------------------------------------------
def test_01_notification_set_releases_every_waiter():
    accepts("01-how-many-released", ["w1", "w2", "w3"])
    accepts("01-how-many-released", ("w3", "w1", "w2"))
    rejects("01-how-many-released", ["w1"], "synchronization")
    rejects("01-how-many-released", [], "release")
    rejects("01-how-many-released", ["w4"], "w4")
    rejects("01-how-many-released", 3, "list")


def test_01_synchronization_set_releases_the_first_waiter_only():
    accepts("01-sync-released", ["w1"])
    accepts("01-sync-released", "w1")
    rejects("01-sync-released", ["w1", "w2", "w3"], "notification")
    rejects("01-sync-released", ["w3"], "head")
    rejects("01-sync-released", [], "one")


def test_01_state_after_the_set():
    accepts("01-state-after", {"notification": 1, "synchronization": 0})
    rejects("01-state-after", {"notification": 0, "synchronization": 0}, "stays signaled")
    rejects("01-state-after", {"notification": 1, "synchronization": 1}, "not signaled")
    rejects("01-state-after", {"notification": 0, "synchronization": 1})
    rejects("01-state-after", [1, 0], "dict")


# --- 02 ----------------------------------------------------------------------------------
def test_02_new_named_event_starts_signaled_and_opening_does_not_reset_it():
    accepts("02-first-wait", (STATUS_SUCCESS, STATUS_TIMEOUT))
    accepts("02-first-wait", ["STATUS_SUCCESS", "STATUS_TIMEOUT"])
    rejects("02-first-wait", (STATUS_TIMEOUT, STATUS_TIMEOUT), "Signaled")
    rejects("02-first-wait", (STATUS_SUCCESS, STATUS_SUCCESS), "only opens")
    rejects("02-first-wait", (STATUS_TIMEOUT, STATUS_SUCCESS), "driverA", "driverB")
    rejects("02-first-wait", ("yes", "no"), "name")
    rejects("02-first-wait", STATUS_SUCCESS, "pair")


def test_02_one_waiter_per_signal():
    accepts("02-one-per-signal", ["driverB"])
    rejects("02-one-per-signal", ["driverB", "driverC"], "one waiter per signal")
    rejects("02-one-per-signal", ["driverC"], "head")
    rejects("02-one-per-signal", ["driverA"], "sets")


def test_02_io_create_at_dispatch_level_is_verifier_0xc4():
    accepts("02-irql", 0xC4)
    accepts("02-irql", "0xC4")
    accepts("02-irql", "DRIVER_VERIFIER_DETECTED_VIOLATION")
    rejects("02-irql", 0x0A, "Driver Verifier")
    rejects("02-irql", 0, "PASSIVE_LEVEL")
    rejects("02-irql", "blue", "number")


NAME02 = r"\BaseNamedObjects\EvtsimLesson02"


def timer_close_first(k):
    event, handle = yield k.IoCreateSynchronizationEvent(NAME02)
    yield k.ZwClose(handle)
    yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
    yield k.KeSetEvent(event, 0, False)


def timer_close_last(k):
    event, handle = yield k.IoCreateSynchronizationEvent(NAME02)
    yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
    yield k.KeSetEvent(event, 0, False)
    yield k.ZwClose(handle)


def timer_own_reference(k):
    event, handle = yield k.IoCreateSynchronizationEvent(NAME02)
    status, kept = yield k.ObReferenceObjectByHandle(handle, EVENT_MODIFY_STATE,
                                                     ExEventObjectType, KernelMode)
    yield k.ZwClose(handle)
    yield k.KeDelayExecutionThread(KernelMode, False, -1 * MS)
    yield k.KeSetEvent(kept, 0, False)
    yield k.ObDereferenceObject(kept)


def timer_never_closes(k):
    event, handle = yield k.IoCreateSynchronizationEvent(NAME02)
    yield k.KeSetEvent(event, 0, False)


def timer_leaks_reference(k):
    event, handle = yield k.IoCreateSynchronizationEvent(NAME02)
    status, kept = yield k.ObReferenceObjectByHandle(handle, EVENT_MODIFY_STATE,
                                                     ExEventObjectType, KernelMode)
    yield k.ZwClose(handle)
    yield k.KeSetEvent(kept, 0, False)


def timer_never_sets(k):
    event, handle = yield k.IoCreateSynchronizationEvent(NAME02)
    yield k.ZwClose(handle)


def test_02_pointer_is_valid_only_while_the_handle_is_open():
    accepts("02-fix-use-after-close", timer_close_last)
    accepts("02-fix-use-after-close", timer_own_reference)
    rejects("02-fix-use-after-close", timer_close_first, "0xCC")
    rejects("02-fix-use-after-close", timer_never_closes, "ZwClose")
    rejects("02-fix-use-after-close", timer_leaks_reference, "ObDereferenceObject")
    rejects("02-fix-use-after-close", timer_never_sets, "once")


def test_02_a_failed_create_returns_null_and_no_handle():
    accepts("02-null", (None, None))
    rejects("02-null", None, "pair")
    rejects("02-null", (None, 0xC000003A), "NULL")
    rejects("02-null", ("Lock", None), "NULL")


# --- 03 ----------------------------------------------------------------------------------
def test_03_zero_timeout_polls():
    accepts("03-poll", (STATUS_TIMEOUT, STATUS_SUCCESS))
    accepts("03-poll", ("STATUS_TIMEOUT", "STATUS_SUCCESS"))
    rejects("03-poll", (STATUS_SUCCESS, STATUS_SUCCESS), "not signaled yet")
    rejects("03-poll", (STATUS_TIMEOUT, STATUS_TIMEOUT), "stays signaled")
    rejects("03-poll", (STATUS_SUCCESS, STATUS_TIMEOUT), "Before", "after")


def test_03_reset_returns_the_previous_state_clear_returns_nothing():
    accepts("03-clear-vs-reset", [1, None, 0])
    rejects("03-clear-vs-reset", [1, 1, 0], "KeClearEvent returns nothing")
    rejects("03-clear-vs-reset", [1, 0, 0], "KeClearEvent returns nothing")
    rejects("03-clear-vs-reset", [0, None, 0], "state before")
    rejects("03-clear-vs-reset", [True, None, False], "TRUE/FALSE")
    rejects("03-clear-vs-reset", [1, None], "three")


def publish_right(k, event):
    yield k.KeSetEvent(event, 0, False)
    yield k.KeClearEvent(event)


def publish_with_reset(k, event):
    yield k.KeSetEvent(event, 0, False)
    yield k.KeResetEvent(event)


def publish_leaves_open(k, event):         # not the lesson's starter: another increment
    yield k.KeSetEvent(event, 1, False)


def publish_as_the_lesson_gives_it(k, event):
    yield k.KeSetEvent(event, 0, False)


def publish_clear_first(k, event):
    yield k.KeClearEvent(event)
    yield k.KeSetEvent(event, 0, False)


def publish_clear_only(k, event):
    yield k.KeClearEvent(event)


def publish_pulse(k, event):
    yield k.KePulseEvent(event, 0, False)


def test_03_set_then_clear_releases_all_and_closes_the_gate():
    accepts("03-set-then-close", publish_right)
    accepts("03-set-then-close", publish_with_reset)
    rejects("03-set-then-close", publish_leaves_open, "stays signaled")
    rejects("03-set-then-close", publish_clear_first, "later")
    rejects("03-set-then-close", publish_clear_only, "still wait")
    rejects("03-set-then-close", publish_pulse, "unreliable")
    rejects("03-set-then-close", publish_as_the_lesson_gives_it, "still the code the lesson")


# --- 04 ----------------------------------------------------------------------------------
def test_04_each_failed_check_has_its_status():
    right = {"wrong context": STATUS_INVALID_HANDLE, "wrong access": STATUS_ACCESS_DENIED,
             "wrong type": STATUS_OBJECT_TYPE_MISMATCH}
    accepts("04-failures", right)
    accepts("04-failures", {k: name for k, name in
                            (("wrong context", "STATUS_INVALID_HANDLE"),
                             ("wrong access", "STATUS_ACCESS_DENIED"),
                             ("wrong type", "STATUS_OBJECT_TYPE_MISMATCH"))})
    rejects("04-failures", {**right, "wrong context": STATUS_ACCESS_DENIED}, "wrong context")
    rejects("04-failures", {**right, "wrong type": STATUS_INVALID_HANDLE}, "wrong type")
    rejects("04-failures", {**right, "wrong access": STATUS_OBJECT_TYPE_MISMATCH},
            "EVENT_MODIFY_STATE")
    rejects("04-failures", {"wrong context": STATUS_INVALID_HANDLE}, "keys")


def make_dispatch(mode="requestor", object_type=ExEventObjectType, access=EVENT_MODIFY_STATE,
                  dereference=False, keep="object", complete=True):
    def DispatchDeviceControl(k, device, irp):
        status, event = yield k.ObReferenceObjectByHandle(
            irp.InputBuffer, access, object_type,
            irp.RequestorMode if mode == "requestor" else KernelMode)
        if status == STATUS_SUCCESS:
            device.DeviceExtension["Event"] = event if keep == "object" else irp.InputBuffer
            if dereference:
                yield k.ObDereferenceObject(event)
        if complete:
            irp.IoStatus.Status = status
            yield k.IoCompleteRequest(irp, IO_NO_INCREMENT)
        return status
    return DispatchDeviceControl


def test_04_dispatch_routine_validates_in_the_callers_context_and_keeps_a_reference():
    accepts("04-dispatch", make_dispatch())
    rejects("04-dispatch", make_dispatch(mode="kernel"), "KernelMode")
    rejects("04-dispatch", make_dispatch(access=SYNCHRONIZE), "EVENT_MODIFY_STATE")
    rejects("04-dispatch", make_dispatch(object_type=None), "ExEventObjectType")
    rejects("04-dispatch", make_dispatch(dereference=True), "ObDereferenceObject")
    rejects("04-dispatch", make_dispatch(keep="handle"), "handle value")
    rejects("04-dispatch", make_dispatch(complete=False), "bug check")


def test_04_reference_is_dropped_in_cleanup():
    accepts("04-cleanup", "IRP_MJ_CLEANUP")
    accepts("04-cleanup", IRP_MJ_CLEANUP)
    accepts("04-cleanup", "DispatchCleanup")
    rejects("04-cleanup", "IRP_MJ_CLOSE", "later")
    rejects("04-cleanup", "DriverUnload", "too late")
    rejects("04-cleanup", "the DPC", "never run")
    rejects("04-cleanup", "IRP_MJ_DEVICE_CONTROL", "must not drop")


def test_04_inverted_call_is_released_by_io_complete_request():
    accepts("04-inverted", "IoCompleteRequest")
    accepts("04-inverted", "IoCompleteRequest()")
    rejects("04-inverted", "KeSetEvent", "no shared event")
    rejects("04-inverted", "IoMarkIrpPending", "finishes")
    rejects("04-inverted", "SetEvent")
