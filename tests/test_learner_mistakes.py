"""The mistakes learners make on purpose, each answered in plain words (issue 10).

An exception in a thread's own code stops that thread and points at the learner's
line; a thread that yields forever meets the step budget, which names it; forgetting
`yield`, yielding the wrong thing and calling a routine from the wrong mode each get a
one-line explanation; `m.kernel` refuses what it cannot do; a crashed machine stays
crashed; in IPython an evtsim error shows the learner's line and the message, never
evtsim's own frames.
"""
from __future__ import annotations

import os

import pytest

import evtsim
from evtsim import (BugCheckError, EvtsimError, Machine, MachineStateError,
                    MissingYieldError, NotACallError, ProtocolError, WouldBlockError,
                    WrongSurfaceError)
from evtsim.api.kernel import (DISPATCH_LEVEL, Executive, KernelMode, NotificationEvent,
                               SynchronizationEvent)
from evtsim.api.win32 import Win32Api
from evtsim.status import INFINITE

from conftest import line_of

EVTSIM_DIR = os.path.dirname(os.path.abspath(evtsim.__file__))


def one_line(text: str) -> bool:
    return "\n" not in text.strip()


@pytest.fixture
def go(m):
    return m.kernel.KeInitializeEvent(NotificationEvent, False, name="Go")


def poll(k, ev, times=3):
    for _ in range(times):
        yield k.KeReadStateEvent(ev)
    return "polled"


# --- an exception in the learner's code -------------------------------------------------
def test_an_exception_in_thread_code_stops_that_thread_at_the_learners_line(m, go):
    def faulty(k, ev):
        yield k.KeReadStateEvent(ev)
        ratio = 1 / 0                                   # BOOM
        yield k.KeSetEvent(ev, 0, False)
        return ratio

    t = m.system.start(faulty, go, name="faulty")
    other = m.system.start(poll, go, name="other")
    result = m.run()
    assert result.reason == "error" and result.thread is t
    assert t.state == "terminated" and isinstance(t.error, ZeroDivisionError)
    line = line_of(faulty, "# BOOM")
    assert f"line {line}" in result.message and "ratio = 1 / 0" in result.message
    assert "faulty" in result.message and "ZeroDivisionError" in result.message
    assert EVTSIM_DIR not in result.message
    assert go.SignalState == 0                          # it stopped before the set
    again = m.run()                                     # the other thread goes on
    assert again.reason == "done" and other.result == "polled"


def test_an_exception_in_a_user_thread_is_shown_the_same_way(m, go):
    app = m.process("app.exe")

    def main(api):
        h = yield api.CreateEvent(None, True, False, None)
        names = {}
        return names["missing"]                         # KEY

    t = app.start(main)
    result = m.run()
    assert result.reason == "error" and isinstance(t.error, KeyError)
    assert f"line {line_of(main, '# KEY')}" in result.message


def test_an_exception_the_thread_catches_does_not_stop_it(m, go):
    def careful(k, ev):
        try:
            yield k.KeSetEvent(None, 0, False)
        except EvtsimError as error:
            yield k.KeSetEvent(ev, 0, False)
            return str(error)

    t = m.system.start(careful, go)
    assert m.run().reason == "done"
    assert "KeSetEvent needs KEVENT" in t.result and go.SignalState == 1


# --- a thread that never stops yielding -------------------------------------------------
def test_a_thread_that_yields_forever_hits_the_step_budget_naming_it(m, go):
    def spinner(k, ev):
        while True:
            yield k.KeReadStateEvent(ev)

    m.system.start(spinner, go, name="spinner")
    m.system.start(poll, go, name="quiet")
    result = m.run(max_steps=1_000)
    assert result.reason == "budget" and result.steps == 1_000
    assert "spinner" in result.message and result.thread.name == "spinner"
    assert "max_steps" in result.message
    assert m.run(max_steps=10).reason == "budget"        # and it can go on


# --- forgetting yield, yielding the wrong thing ----------------------------------------
def test_forgetting_yield_is_explained_at_the_call(m, go):
    def forgetful(k, ev):
        k.KeSetEvent(ev, 0, False)                       # NO YIELD
        yield k.KeReadStateEvent(ev)

    t = m.system.start(forgetful, go)
    result = m.run()
    assert result.reason == "error" and isinstance(t.error, MissingYieldError)
    text = str(t.error)
    assert one_line(text) and f"line {line_of(forgetful, '# NO YIELD')}" in text
    assert "KeSetEvent" in text and "yield" in text
    assert go.SignalState == 0                           # the call never ran


def test_forgetting_yield_on_the_last_call_is_explained(m, go):
    def forgetful(k, ev):
        yield k.KeReadStateEvent(ev)
        k.KeSetEvent(ev, 0, False)                       # LAST

    t = m.system.start(forgetful, go)
    m.run()
    assert isinstance(t.error, MissingYieldError) and one_line(str(t.error))
    assert f"line {line_of(forgetful, '# LAST')}" in str(t.error)


def test_a_thread_function_without_any_yield_is_refused_at_start(m, go):
    def no_yield(k, ev):
        k.KeSetEvent(ev, 0, False)

    with pytest.raises(ProtocolError) as caught:
        m.system.start(no_yield, go)
    assert "not a generator function" in str(caught.value) and one_line(str(caught.value))
    assert "KeSetEvent" in str(caught.value)


@pytest.mark.parametrize("what,expected", [
    (lambda k: 42, "yielded 42, which is not an evtsim call"),
    (lambda k: None, "bare `yield`"),
    (lambda k: k.KeReadStateEvent, "yielded the routine KeReadStateEvent itself"),
    (lambda k: "KeSetEvent", "is not an evtsim call"),
    (lambda k: [k], "is not an evtsim call"),
], ids=["int", "bare", "routine", "str", "list"])
def test_yielding_the_wrong_thing_is_explained_in_one_line(m, what, expected):
    def wrong(k):
        yield what(k)                                    # WRONG

    t = m.system.start(wrong, name="wrong")
    result = m.run()
    assert result.reason == "error" and isinstance(t.error, NotACallError)
    assert expected in str(t.error) and one_line(str(t.error))
    assert f"line {line_of(wrong, '# WRONG')}" in result.message


def test_yielding_another_threads_call_is_explained(m, go):
    calls = {}

    def first(k, ev):
        call = k.KeReadStateEvent(ev)
        calls["made"] = call
        yield call
        yield k.KeReadStateEvent(ev)

    def second(k, ev):
        yield k.KeReadStateEvent(ev)
        yield calls["made"]

    m.system.start(first, go, name="first")
    t = m.system.start(second, go, name="second")
    m.run()
    assert isinstance(t.error, NotACallError) and "api of thread first" in str(t.error)


def test_yielding_m_kernels_result_in_a_thread_is_explained(m, go):
    def mixed(k, ev):
        yield m.kernel.KeSetEvent(ev)            # m.kernel acts at once: this yields 0

    t = m.system.start(mixed, go)
    m.run()
    assert isinstance(t.error, NotACallError) and one_line(str(t.error))


# --- the wrong surface -------------------------------------------------------------------
def test_a_kernel_routine_from_a_user_thread_is_explained(m, go):
    app = m.process("app.exe")

    def main(api):
        yield api.KeSetEvent(go, 0, False)               # KERNEL

    t = app.start(main, name="main")
    result = m.run()
    assert isinstance(t.error, WrongSurfaceError) and one_line(str(t.error))
    assert "KeSetEvent is a kernel routine" in str(t.error) and "SetEvent" in str(t.error)
    assert f"line {line_of(main, '# KERNEL')}" in result.message


def test_a_win32_function_from_a_kernel_thread_is_explained(m):
    def kernel_code(k):
        yield k.WaitForSingleObject(4, INFINITE)

    t = m.system.start(kernel_code)
    m.run()
    assert isinstance(t.error, WrongSurfaceError) and one_line(str(t.error))
    assert "WaitForSingleObject is a Win32 function" in str(t.error)


@pytest.mark.parametrize("routine", Win32Api(Machine(), None).routines())
def test_every_win32_function_from_kernel_code_is_a_wrong_surface_error(m, routine):
    def kernel_code(k):
        yield getattr(k, routine)()

    t = m.system.start(kernel_code)
    m.run()
    assert isinstance(t.error, WrongSurfaceError), (
        f"{routine} from a kernel thread gave {type(t.error).__name__}: {t.error}")


@pytest.mark.parametrize("routine", Machine().kernel.routines())
def test_every_kernel_routine_from_user_code_is_a_wrong_surface_error(m, routine):
    app = m.process("app.exe")

    def main(api):
        yield getattr(api, routine)()

    t = app.start(main)
    m.run()
    assert isinstance(t.error, WrongSurfaceError), (
        f"{routine} from a user thread gave {type(t.error).__name__}: {t.error}")


@pytest.mark.parametrize("helper", ["InitializeObjectAttributes", "RtlInitUnicodeString",
                                    "IoGetCurrentIrpStackLocation"])
def test_kernel_helpers_from_user_code_are_a_wrong_surface_error(m, helper):
    app = m.process("app.exe")

    def main(api):
        yield getattr(api, helper)(None)

    t = app.start(main)
    m.run()
    assert isinstance(t.error, WrongSurfaceError), (
        f"{helper} from a user thread gave {type(t.error).__name__}: {t.error}")


def test_driverworks_kevent_in_a_user_thread_is_explained(m):
    from evtsim.api.driverworks import KEvent, KUstring
    app = m.process("app.exe")

    def main(api):
        yield KEvent(KUstring(r"\BaseNamedObjects\X"), SynchronizationEvent)

    t = app.start(main)
    m.run()
    assert isinstance(t.error, ProtocolError) and one_line(str(t.error))
    assert "kernel code" in str(t.error)


def test_a_kevent_method_before_the_kevent_was_yielded_is_explained(m):
    from evtsim.api.driverworks import KEvent, KUstring

    def driver_code(k):
        event = KEvent(KUstring(r"\BaseNamedObjects\X"), SynchronizationEvent)
        yield event.Set()

    t = m.system.start(driver_code)
    m.run()
    assert isinstance(t.error, MissingYieldError) and "never yielded" in str(t.error)


def test_a_start_routine_with_the_wrong_parameters_is_explained(m):
    """PsCreateSystemThread calls StartRoutine(k, StartContext): a routine that takes
    only `k` is the learner's mistake, to be explained, not a TypeError out of run()."""
    def only_k(k):
        yield k.KeGetCurrentIrql()

    def starter(k):
        yield k.PsCreateSystemThread(only_k)

    t = m.system.start(starter, name="starter")
    result = m.run()                                     # must not raise TypeError
    assert result.reason == "error" and isinstance(t.error, EvtsimError)
    assert "only_k" in str(t.error)


def test_a_thread_function_with_the_wrong_parameters_is_explained_at_start(m):
    def takes_nothing():
        yield None

    with pytest.raises(EvtsimError) as caught:
        m.system.start(takes_nothing)
    assert "takes_nothing" in str(caught.value)


# --- m.kernel misuse ------------------------------------------------------------------
def test_m_kernel_cannot_wait(m, go):
    with pytest.raises(WouldBlockError) as caught:
        m.kernel.KeWaitForSingleObject(go, Executive, KernelMode, False, None)
    assert one_line(str(caught.value)) and "Start a thread" in str(caught.value)
    assert m.kernel.KeWaitForSingleObject(go, Executive, KernelMode, False, 0) == 0x102


def test_m_kernel_refuses_wait_true_and_irql_changes(m, go):
    with pytest.raises(MachineStateError):
        m.kernel.KeSetEvent(go, 0, True)
    with pytest.raises(MachineStateError):
        m.kernel.KeRaiseIrql(DISPATCH_LEVEL)
    assert m.kernel.KeGetCurrentIrql() == 0
    assert go.SignalState == 0


def test_m_kernel_explains_wrong_arguments_and_surfaces(m, go):
    with pytest.raises(EvtsimError):
        m.kernel.KeSetEvent(None)
    with pytest.raises(EvtsimError):
        m.kernel.KeSetEvent()                            # missing argument
    with pytest.raises(WrongSurfaceError):
        m.kernel.SetEvent(4)
    with pytest.raises(EvtsimError):
        Machine().kernel.KeSetEvent(go)                  # another machine's event


def test_m_kernel_needs_no_yield_and_records_the_call(m, go):
    assert m.kernel.KeSetEvent(go) == 0
    assert m.trace[-1].op == "KeSetEvent" and m.trace[-1].thread == "instructor"


# --- after a bug check -------------------------------------------------------------------
@pytest.fixture
def crashed(m, go):
    def bad(k, ev):
        yield k.KeRaiseIrql(DISPATCH_LEVEL)
        yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)

    m.system.start(bad, go, name="bad")
    m.system.start(poll, go, name="bystander")
    result = m.run()
    assert result.reason == "bugcheck" and m.bugcheck.code == 0xC4
    return m


def test_run_after_a_bug_check_returns_at_once(crashed):
    steps = len(crashed.trace)
    result = crashed.run()
    assert result.reason == "bugcheck" and result.steps == 0
    assert "0xC4" in result.message and len(crashed.trace) == steps


def test_step_after_a_bug_check_does_nothing_and_says_why(crashed):
    steps = len(crashed.trace)
    with pytest.raises(MachineStateError, match="Bug check 0xC4"):
        crashed.step()
    with pytest.raises(MachineStateError, match="Bug check 0xC4"):
        crashed.step(crashed.thread("bystander"))
    assert crashed.choices() == [] and len(crashed.trace) == steps


def test_m_kernel_and_new_threads_after_a_bug_check_are_refused(crashed, go):
    with pytest.raises(MachineStateError) as caught:
        crashed.kernel.KeSetEvent(go)
    assert "crashed" in str(caught.value) and "new Machine" in str(caught.value)
    with pytest.raises(MachineStateError):
        crashed.system.start(poll, go)


def test_a_bug_check_from_m_kernel_raises_bug_check_error(m):
    ev, handle = m.kernel.IoCreateNotificationEvent(r"\BaseNamedObjects\Gone")
    m.kernel.ZwClose(handle)                             # the last handle: ev is freed
    with pytest.raises(BugCheckError) as caught:
        m.kernel.KeSetEvent(ev)
    assert caught.value.info.code == 0xCC and m.bugcheck is caught.value.info
    assert m.run().reason == "bugcheck"


def test_dereferencing_the_handles_own_reference_is_bug_check_0x18(m):
    """ObDereferenceObject on a pointer that holds no reference of its own (the one
    IoCreate*Event returns) would drop the pointer count below the handle count. Windows
    stops with REFERENCE_BY_POINTER (0x18) (ReactOS ob/obref.c); it must not free an
    object whose handle is still open."""
    ev, handle = m.kernel.IoCreateNotificationEvent(r"\BaseNamedObjects\Shared")
    with pytest.raises(BugCheckError) as caught:
        m.kernel.ObDereferenceObject(ev)
    assert caught.value.info.code == 0x18
    assert ev.header.pointer_count >= ev.header.handle_count == 1


# --- how errors look in IPython -----------------------------------------------------------
def test_render_traceback_shows_the_learners_line_and_no_evtsim_frames(m):
    try:
        m.kernel.KeSetEvent("not an event")              # RENDER ME
    except EvtsimError as error:
        lines = error._render_traceback_()
    line = line_of(test_render_traceback_shows_the_learners_line_and_no_evtsim_frames,
                   "# RENDER" + " ME")
    assert lines[0].strip().startswith("in test_render_traceback")
    assert f"line {line}" in lines[0] and "m.kernel.KeSetEvent" in lines[0]
    assert lines[-1].startswith("BadArgumentError: KeSetEvent needs KEVENT")
    assert not any(EVTSIM_DIR in text or "evtsim/" in text for text in lines)


def test_render_traceback_of_an_error_thrown_into_a_thread(m, go):
    def forgetful(k, ev):
        k.KeSetEvent(ev, 0, False)
        yield k.KeReadStateEvent(ev)                     # THROWN HERE

    t = m.system.start(forgetful, go)
    m.run()
    lines = t.error._render_traceback_()
    assert f"line {line_of(forgetful, '# THROWN HERE')}" in lines[0]
    assert lines[0].strip().startswith("in forgetful")
    assert lines[-1].startswith("MissingYieldError:")
    assert not any(EVTSIM_DIR in text for text in lines)


def test_ipython_shows_only_the_learners_line_and_the_message(capsys):
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    try:
        shell.run_cell("from evtsim import Machine\nm = Machine()\n")
        capsys.readouterr()
        result = shell.run_cell("x = 1\nm.kernel.KeSetEvent(None)\n")
        out = capsys.readouterr()
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(result.error_in_exec, EvtsimError)
    text = out.out + out.err
    assert "line 2: m.kernel.KeSetEvent(None)" in text
    assert "BadArgumentError: KeSetEvent needs KEVENT, not None" in text
    assert EVTSIM_DIR not in text and "machine.py" not in text and "Traceback" not in text
