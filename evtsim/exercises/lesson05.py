"""Exercises for lesson 05, sharing an event by name.

Sources: the 1999 NuMega DriverStudio tip (the app names the event, the driver opens
`\\BaseNamedObjects\\SynchEvent` with DriverWorks `KEvent`), Microsoft's
IoCreateNotificationEvent / IoCreateSynchronizationEvent pages (`Global\\Xxx`, security
can refuse the app, no `\\BaseNamedObjects` for a boot-start driver's DriverEntry) and
Microsoft KB 228785 (the System default DACL). Every checker runs the scenario it
asks about, so the answer it expects is what the simulator does.
"""
from __future__ import annotations

from ..status import (
    ERROR_ACCESS_DENIED,
    ERROR_FILE_NOT_FOUND,
    ERROR_PATH_NOT_FOUND,
    EVENT_MODIFY_STATE,
    EVENT_QUERY_STATE,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_PATH_NOT_FOUND,
    SYNCHRONIZE,
    WAIT_OBJECT_0,
    name_of,
)
from .base import exercise

LESSON = "05-sharing-by-name"


def _app_event_path(namespace: str, app_name: str = "SynchEvent") -> str:
    """The full path of the event the tip's app created, on this namespace."""
    from .. import scenarios
    m = scenarios.build("driverstudio_tip", namespace=namespace, app_name=app_name)
    m.run()
    app = next(p for p in m.processes if p.name == "app.exe")
    entry = app.handles.get(4)
    assert entry is not None, "the app's first handle is its event"
    return entry.object.header.path


@exercise(
    "05-session-path",
    "On a modern Windows the 1999 app runs in session 1 and calls "
    "`CreateEvent(None, False, False, \"SynchEvent\")`. What is the full kernel path of "
    "the event it creates? Answer with a string, for example "
    "`r\"\\Somewhere\\SynchEvent\"`.",
    ["Print `m.objects` after the modern run: there are two events called SynchEvent. "
     "Which one did the app make?",
     "A name without `Global\\` goes to the caller's session directory, "
     "`\\Sessions\\N\\BaseNamedObjects`, where N is the number of the session."],
    r"r'\Sessions\1\BaseNamedObjects\SynchEvent'",
    LESSON)
def session_path(answer):
    if not isinstance(answer, str):
        return False, "Answer with a string, for example r'\\Somewhere\\SynchEvent'."
    given = answer.strip()
    right = _app_event_path("modern")
    if given == right:
        return True, (f"The app's event is {right}. The driver opened "
                      r"\BaseNamedObjects\SynchEvent: another object.")
    if given == r"\BaseNamedObjects\SynchEvent":
        return False, ("That is where the driver looks, and where the event was on NT4. "
                       "On a modern Windows a plain name goes to the session's own "
                       "directory.")
    if given.lower() == right.lower():
        return False, "Nearly: check the capital letters. Names here are case-sensitive."
    if not given.startswith("\\"):
        return False, "A kernel path starts with a backslash, for example \\Sessions\\..."
    return False, ("Look at `m.objects`: which directory holds the event with the app's "
                   "handle?")


@exercise(
    "05-global-name",
    "Which name must the 1999 app pass to `CreateEvent` so that, on a modern Windows, it "
    "gets the same event as the driver's `\\BaseNamedObjects\\SynchEvent`? Answer with "
    "the Win32 name (a string).",
    ["The Io pages say how user mode reaches a kernel-mode event in "
     "`\\BaseNamedObjects`: with a prefix.",
     "The prefix is a symbolic link in the session directory. Its name is "
     "case-sensitive and starts with a capital letter."],
    r"r'Global\SynchEvent'",
    LESSON)
def global_name(answer):
    from .. import scenarios
    if not isinstance(answer, str):
        return False, "Answer with a string, the name the app passes to CreateEvent."
    m = scenarios.build("driverstudio_tip", namespace="modern", app_name=answer)
    result = m.run()
    main = m.thread("main")
    if main.state == "terminated" and main.result == WAIT_OBJECT_0:
        return True, ("The app's WaitForSingleObject returned WAIT_OBJECT_0: the app and "
                      "the driver now share one event.")
    if answer.lower().startswith("global\\") and not answer.startswith("Global\\"):
        return False, "Global is a case-sensitive keyword: write it with a capital G."
    if answer.startswith("\\"):
        return False, ("A Win32 name is not a kernel path: CreateEvent fails with it. Use "
                       "the keyword that links to \\BaseNamedObjects.")
    if answer.startswith("Local\\"):
        return False, "Local\\ is the session's own directory: the driver does not look there."
    if main.state == "terminated":
        return False, (f"The app's wait failed ({name_of(main.result, 'wait')}): "
                       "CreateEvent did not accept that name.")
    if result.reason == "deadlock":
        return False, ("The app still waits for ever: its event and the driver's are two "
                       "different objects.")
    return False, f"The run stopped with {result.reason}; try another name."


def _driver_created(admin: bool, create_in: str = "DriverEntry") -> dict:
    from .. import scenarios
    m = scenarios.build("driver_created_event", admin=admin, create_in=create_in)
    m.run()
    return m.thread("main").result


@exercise(
    "05-standard-user",
    "The driver created `\\BaseNamedObjects\\EvtsimDriverEvent` in `DriverEntry`. A "
    "standard user's app calls `OpenEvent(SYNCHRONIZE, False, "
    "r\"Global\\EvtsimDriverEvent\")`. It gets NULL. What does `GetLastError()` "
    "return? Answer with a number or a constant from `evtsim.status`.",
    ["The name exists: the driver made it. So it is not 'file not found'.",
     "DriverEntry runs in the System process. The event gets the System default DACL "
     "(Microsoft KB 228785). Is a standard user in it?"],
    "ERROR_ACCESS_DENIED (5)",
    LESSON)
def standard_user(answer):
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, "Answer with a number, for example ERROR_FILE_NOT_FOUND."
    right = _driver_created(admin=False)["wait_error"]
    if answer == right:
        return True, ("ERROR_ACCESS_DENIED: the System default DACL gives a standard user "
                      "nothing.")
    if answer in (ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND):
        return False, ("The name is there (the driver created it): the event is found, but "
                       "refused.")
    if answer in (STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND) or answer > 0xFFFF:
        return False, "GetLastError returns a Win32 error code, not an NTSTATUS."
    return False, f"{name_of(answer, 'error')} is not what the app sees. Run the scenario."


_RIGHTS = {EVENT_QUERY_STATE: "EVENT_QUERY_STATE", EVENT_MODIFY_STATE: "EVENT_MODIFY_STATE",
           SYNCHRONIZE: "SYNCHRONIZE"}


def admin_rights() -> set[int]:
    """Which of the three event rights an elevated admin's OpenEvent gets (run, not told)."""
    from ..machine import Machine
    m = Machine()
    name = r"\BaseNamedObjects\EvtsimDriverEvent"

    def driver_entry(k, driver):
        event, handle = yield k.IoCreateNotificationEvent(name)
        return 0

    m.driver("nameddrv.sys", driver_entry)
    app = m.process("tool.exe", user="ann", admin=True)
    granted = set()

    def main(api):
        for right in _RIGHTS:
            handle = yield api.OpenEvent(right, False, r"Global\EvtsimDriverEvent")
            if handle is not None:
                granted.add(right)
                yield api.CloseHandle(handle)

    app.start(main, name="main")
    m.run()
    return granted


@exercise(
    "05-admin-rights",
    "Same event, created in `DriverEntry`. An administrator's app (elevated) opens it. "
    "Which of these rights does `OpenEvent` give it: `EVENT_QUERY_STATE`, "
    "`EVENT_MODIFY_STATE`, `SYNCHRONIZE`? Answer with a set, for example "
    "`{SYNCHRONIZE}`.",
    ["The System default DACL has two entries: SYSTEM gets everything; Administrators get "
     "GENERIC_READ | GENERIC_EXECUTE.",
     "For an event, read means query the state; execute means SYNCHRONIZE (wait). "
     "Which right does SetEvent need?"],
    "{EVENT_QUERY_STATE, SYNCHRONIZE}: the admin may look and wait, but not set",
    LESSON)
def admin_rights_checker(answer):
    if isinstance(answer, int) and not isinstance(answer, bool):
        answer = {r for r in _RIGHTS if answer & r}
    if not isinstance(answer, (set, frozenset, list, tuple)):
        return False, "Answer with a set of rights, for example {SYNCHRONIZE}."
    given = set(answer)
    if not given <= set(_RIGHTS):
        return False, "Use only EVENT_QUERY_STATE, EVENT_MODIFY_STATE and SYNCHRONIZE."
    right = admin_rights()
    if given == right:
        return True, ("The admin may query and wait, but not set: SetEvent needs "
                      "EVENT_MODIFY_STATE (Microsoft KB 228785).")
    if EVENT_MODIFY_STATE in given:
        return False, ("EVENT_MODIFY_STATE is refused: the DACL gives Administrators read "
                       "and execute only, so an admin app cannot set the event.")
    if SYNCHRONIZE not in given:
        return False, "The admin can wait on it: SYNCHRONIZE is granted (generic execute)."
    return False, "The admin can also read the state: EVENT_QUERY_STATE is granted."


@exercise(
    "05-create-in-dispatch",
    "The driver wants a standard user's app to open its event. Where should it call "
    "`IoCreateNotificationEvent`: `\"DriverEntry\"` or `\"dispatch\"` (its "
    "IRP_MJ_DEVICE_CONTROL routine, called by the app)?",
    ["A new named object gets the default DACL of the process it is created in.",
     "DriverEntry runs in the System process; a dispatch routine that the app calls "
     "directly runs in the app's process."],
    "\"dispatch\": created in the app's context, the event gets the app's DACL",
    LESSON)
def create_in_dispatch(answer):
    if answer not in ("DriverEntry", "dispatch"):
        return False, "Answer \"DriverEntry\" or \"dispatch\"."
    result = _driver_created(admin=False, create_in=answer)
    if result["wait"] is not None and result["result"] == WAIT_OBJECT_0:
        return True, ("Created in the dispatch routine, the event has the app's DACL: the "
                      "standard user opens it and its wait returns WAIT_OBJECT_0. (A driver "
                      "may also pass its own security descriptor.)")
    return False, ("In DriverEntry the event gets the System default DACL, and the standard "
                   f"user's OpenEvent fails with {name_of(ERROR_ACCESS_DENIED, 'error')}.")


@exercise(
    "05-boot-start",
    "A boot-start driver calls "
    "`IoCreateNotificationEvent(r\"\\BaseNamedObjects\\EvtsimBootEvent\")` in "
    "`DriverEntry`, before the Win32 subsystem has started. What does the call return? "
    "Answer with the pair it returns.",
    ["Does \\BaseNamedObjects exist yet? Print `Machine(boot=False).objects`.",
     "IoCreateNotificationEvent returns a pointer and a handle, not a status. What is "
     "the pointer when it fails?"],
    "(None, None): NULL, because \\BaseNamedObjects does not exist yet",
    LESSON, none_is_answer=True)
def boot_start(answer):
    from .. import scenarios
    m = scenarios.build("boot_start_driver", retry_after_win32=False)
    m.run()
    right = m.boot["in_driver_entry"]
    if isinstance(answer, tuple) and answer == right:
        return True, ("NULL and no handle: \\BaseNamedObjects is made when the Win32 "
                      "subsystem starts. Create the event later (in a dispatch routine, or "
                      "a worker that runs after Win32 is up).")
    if isinstance(answer, int) and not isinstance(answer, bool):
        return False, ("IoCreateNotificationEvent does not return a status: it returns a "
                       "pointer (or NULL) and a handle.")
    if answer is None:
        return False, "It returns two values: the pointer and the handle. Write a pair."
    return False, "The call fails here. What is a NULL pointer in Python?"


__all__ = ["admin_rights"]
