"""The public surface: each public module says what it exports, and the contract is in it.

Every public module has an `__all__` whose names all exist and are not private; the
names the kit's contract promises (docs/engine.md, the README and the lessons use them)
are exported from the modules that promise them. Anything else in a module is private
to the kit and may change.
"""
from __future__ import annotations

import importlib

import pytest

PUBLIC = ["evtsim", "evtsim.status", "evtsim.errors", "evtsim.records", "evtsim.machine",
          "evtsim.api.kernel", "evtsim.api.win32", "evtsim.api.driverworks",
          "evtsim.scenarios", "evtsim.timeline", "evtsim.trace", "evtsim.perfetto",
          "evtsim.plot", "evtsim.explore", "evtsim.lab", "evtsim.widgets",
          "evtsim.exercises", "evtsim.invariants"]

# What the contract names, module by module.
CONTRACT = {
    "evtsim": {"Machine", "Process", "Thread", "WaitInfo", "RunResult", "TraceRecord",
               "EvtsimError", "BadArgumentError", "BugCheckError", "__version__"},
    "evtsim.api.kernel": {"NotificationEvent", "SynchronizationEvent", "KernelMode",
                          "UserMode", "WaitAny", "WaitAll", "Executive", "OBJ_OPENIF",
                          "OBJ_KERNEL_HANDLE", "IRP_MJ_DEVICE_CONTROL", "IO_NO_INCREMENT",
                          "ExEventObjectType", "PASSIVE_LEVEL", "APC_LEVEL",
                          "DISPATCH_LEVEL", "CTL_CODE", "KernelApi"},
    "evtsim.api.driverworks": {"KEvent", "KUstring"},
    "evtsim.trace": {"save", "load", "replay", "to_perfetto", "text_timeline"},
    "evtsim.plot": {"timeline", "wait_queues", "namespace"},
    "evtsim.widgets": {"EventLab", "EventDemo", "Predict", "TraceFiles"},
    "evtsim.explore": {"explore", "replay"},
    "evtsim.scenarios": {"names", "build", "describe", "get"},
    "evtsim.exercises": {"get", "check", "all_exercises", "show_source"},
    "evtsim.lab": {"LabSession"},
    "evtsim.records": {"TraceRecord", "Trace"},
    "evtsim.status": {"STATUS_SUCCESS", "STATUS_TIMEOUT", "WAIT_OBJECT_0", "WAIT_TIMEOUT",
                      "INFINITE", "SYNCHRONIZE", "EVENT_MODIFY_STATE", "EVENT_ALL_ACCESS",
                      "ERROR_ALREADY_EXISTS", "ERROR_ACCESS_DENIED", "name_of"},
}


def exported(name: str) -> list[str]:
    module = importlib.import_module(name)
    names = getattr(module, "__all__", None)
    if names is None:          # a module of plain constants: its public names
        names = [n for n in vars(module) if not n.startswith("_")]
    return list(names)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_exported_name_exists_and_is_public(name):
    module = importlib.import_module(name)
    names = exported(name)
    assert names, f"{name} exports nothing"
    assert len(names) == len(set(names)), f"{name} exports a name twice"
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"
    private = [n for n in names if n.startswith("_") and n != "__version__"]
    assert not private, f"{name} exports private names: {private}"


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_the_contract_names_are_exported(name):
    missing = CONTRACT[name] - set(exported(name))
    assert not missing, f"{name} no longer exports {sorted(missing)}"


def test_a_star_import_of_the_status_constants_gives_the_contract():
    space: dict = {}
    exec("from evtsim.status import *", space)
    assert CONTRACT["evtsim.status"] <= set(space)
