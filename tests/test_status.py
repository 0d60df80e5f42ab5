"""evtsim.status: the constants of docs/semantics.md section 8, naming, severity, and the
NTSTATUS -> Win32 error mapping of RtlNtStatusToDosError."""
import pytest

import evtsim.status as st
from evtsim.status import (
    NT_ERROR, NT_INFORMATION, NT_SUCCESS, NT_WARNING, access_names, name_of,
    nt_status_to_win32_error,
)

SECTION_8 = {
    # NTSTATUS
    "STATUS_SUCCESS": 0, "STATUS_WAIT_0": 0, "STATUS_ABANDONED": 0x80,
    "STATUS_USER_APC": 0xC0, "STATUS_ALERTED": 0x101, "STATUS_TIMEOUT": 0x102,
    "STATUS_PENDING": 0x103, "STATUS_OBJECT_NAME_EXISTS": 0x40000000,
    "STATUS_INVALID_HANDLE": 0xC0000008, "STATUS_INVALID_PARAMETER": 0xC000000D,
    "STATUS_ACCESS_DENIED": 0xC0000022, "STATUS_OBJECT_TYPE_MISMATCH": 0xC0000024,
    "STATUS_OBJECT_NAME_INVALID": 0xC0000033, "STATUS_OBJECT_NAME_NOT_FOUND": 0xC0000034,
    "STATUS_OBJECT_NAME_COLLISION": 0xC0000035, "STATUS_OBJECT_PATH_NOT_FOUND": 0xC000003A,
    "STATUS_OBJECT_PATH_SYNTAX_BAD": 0xC000003B,
    # Win32 errors
    "ERROR_FILE_NOT_FOUND": 2, "ERROR_PATH_NOT_FOUND": 3, "ERROR_ACCESS_DENIED": 5,
    "ERROR_INVALID_HANDLE": 6, "ERROR_INVALID_PARAMETER": 87, "ERROR_INVALID_NAME": 123,
    "ERROR_ALREADY_EXISTS": 183,
    # waits
    "WAIT_OBJECT_0": 0, "WAIT_ABANDONED_0": 0x80, "WAIT_IO_COMPLETION": 0xC0,
    "WAIT_TIMEOUT": 0x102, "WAIT_FAILED": 0xFFFFFFFF,
    # access
    "EVENT_QUERY_STATE": 1, "EVENT_MODIFY_STATE": 2, "SYNCHRONIZE": 0x100000,
    "EVENT_ALL_ACCESS": 0x1F0003,
    # flags
    "OBJ_INHERIT": 0x2, "OBJ_PERMANENT": 0x10, "OBJ_CASE_INSENSITIVE": 0x40,
    "OBJ_OPENIF": 0x80, "OBJ_KERNEL_HANDLE": 0x200,
    "CREATE_EVENT_MANUAL_RESET": 1, "CREATE_EVENT_INITIAL_SET": 2,
    # bug checks
    "MAXIMUM_WAIT_OBJECTS_EXCEEDED": 0xC, "ATTEMPTED_SWITCH_FROM_DPC": 0xB8,
    "DRIVER_VERIFIER_DETECTED_VIOLATION": 0xC4, "INVALID_KERNEL_HANDLE": 0x93,
}

# Values beyond section 8 that the object and I/O managers will use (Wine's ntstatus.h,
# winerror.h and winnt.h; Microsoft's bug check reference).
FURTHER = {
    "STATUS_ABANDONED_WAIT_0": 0x80, "STATUS_KERNEL_APC": 0x100,
    "STATUS_UNSUCCESSFUL": 0xC0000001, "STATUS_NOT_IMPLEMENTED": 0xC0000002,
    "STATUS_INVALID_DEVICE_REQUEST": 0xC0000010, "STATUS_BUFFER_TOO_SMALL": 0xC0000023,
    "STATUS_INVALID_PARAMETER_MIX": 0xC0000030, "STATUS_OBJECT_PATH_INVALID": 0xC0000039,
    "STATUS_INSUFFICIENT_RESOURCES": 0xC000009A, "STATUS_CANCELLED": 0xC0000120,
    "STATUS_NOT_FOUND": 0xC0000225, "STATUS_HANDLE_NOT_CLOSABLE": 0xC0000235,
    "ERROR_SUCCESS": 0, "ERROR_INVALID_FUNCTION": 1, "ERROR_NOT_ENOUGH_MEMORY": 8,
    "ERROR_NOT_SUPPORTED": 50, "ERROR_INSUFFICIENT_BUFFER": 122, "ERROR_BAD_PATHNAME": 161,
    "ERROR_FILENAME_EXCED_RANGE": 206, "ERROR_OPERATION_ABORTED": 995,
    "ERROR_IO_PENDING": 997, "ERROR_NO_SYSTEM_RESOURCES": 1450,
    "INFINITE": 0xFFFFFFFF, "MAXIMUM_WAIT_OBJECTS": 64, "THREAD_WAIT_OBJECTS": 3,
    "DELETE": 0x10000, "READ_CONTROL": 0x20000, "WRITE_DAC": 0x40000, "WRITE_OWNER": 0x80000,
    "STANDARD_RIGHTS_REQUIRED": 0xF0000, "STANDARD_RIGHTS_READ": 0x20000,
    "STANDARD_RIGHTS_WRITE": 0x20000, "STANDARD_RIGHTS_EXECUTE": 0x20000,
    "STANDARD_RIGHTS_ALL": 0x1F0000, "GENERIC_READ": 0x80000000,
    "GENERIC_WRITE": 0x40000000, "GENERIC_EXECUTE": 0x20000000, "GENERIC_ALL": 0x10000000,
    "MAXIMUM_ALLOWED": 0x02000000, "OBJ_EXCLUSIVE": 0x20,
    "IRQL_NOT_GREATER_OR_EQUAL": 0x9, "IRQL_NOT_LESS_OR_EQUAL": 0xA,
    "KMODE_EXCEPTION_NOT_HANDLED": 0x1E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED": 0x7E,
}


@pytest.mark.parametrize("name,value", sorted(SECTION_8.items()))
def test_section_8_constant_has_documented_value(name, value):
    assert getattr(st, name) == value


@pytest.mark.parametrize("name,value", sorted(FURTHER.items()))
def test_further_constant_has_header_value(name, value):
    assert getattr(st, name) == value


def test_constants_are_plain_ints():
    for name in st.__all__:
        value = getattr(st, name)
        if not callable(value):
            assert type(value) is int, name


def test_status_wait_n_is_a_module_attribute_for_every_index_0_to_63():
    for i in range(64):
        assert getattr(st, f"STATUS_WAIT_{i}") == st.STATUS_WAIT_0 + i
    assert not hasattr(st, "STATUS_WAIT_64")


def test_event_all_access_is_standard_required_synchronize_and_both_event_rights():
    assert st.EVENT_ALL_ACCESS == (st.STANDARD_RIGHTS_REQUIRED | st.SYNCHRONIZE
                                   | st.EVENT_QUERY_STATE | st.EVENT_MODIFY_STATE)
    assert st.STANDARD_RIGHTS_REQUIRED == st.DELETE | st.READ_CONTROL | st.WRITE_DAC | st.WRITE_OWNER


def test_win32_wait_results_equal_their_ntstatus_twins():
    assert st.WAIT_OBJECT_0 == st.STATUS_WAIT_0
    assert st.WAIT_ABANDONED_0 == st.STATUS_ABANDONED_WAIT_0
    assert st.WAIT_IO_COMPLETION == st.STATUS_USER_APC
    assert st.WAIT_TIMEOUT == st.STATUS_TIMEOUT


# --- name_of ---------------------------------------------------------------------------------

def test_name_of_names_a_status_value():
    assert name_of(0xC0000034) == "STATUS_OBJECT_NAME_NOT_FOUND"
    assert name_of(st.STATUS_TIMEOUT) == "STATUS_TIMEOUT"
    assert name_of(st.STATUS_OBJECT_NAME_EXISTS) == "STATUS_OBJECT_NAME_EXISTS"


def test_name_of_zero_without_kind_is_status_success():
    assert name_of(0) == "STATUS_SUCCESS"


def test_name_of_zero_is_settled_by_kind():
    assert name_of(0, "status") == "STATUS_SUCCESS"
    assert name_of(0, "error") == "ERROR_SUCCESS"
    assert name_of(0, "wait") == "WAIT_OBJECT_0"


def test_name_of_wait_any_index_is_status_wait_n():
    assert name_of(1) == "STATUS_WAIT_1"
    assert name_of(63, kind="status") == "STATUS_WAIT_63"


def test_name_of_wait_kind_counts_from_wait_object_0_and_wait_abandoned_0():
    assert name_of(2, kind="wait") == "WAIT_OBJECT_0 + 2"
    assert name_of(0x80, kind="wait") == "WAIT_ABANDONED_0"
    assert name_of(0x81, kind="wait") == "WAIT_ABANDONED_0 + 1"
    assert name_of(0x102, kind="wait") == "WAIT_TIMEOUT"
    assert name_of(0xC0, kind="wait") == "WAIT_IO_COMPLETION"
    assert name_of(0xFFFFFFFF, kind="wait") == "WAIT_FAILED"


def test_name_of_prefers_ntstatus_names_over_other_families():
    assert name_of(0x102) == "STATUS_TIMEOUT"          # also WAIT_TIMEOUT
    assert name_of(0xC0) == "STATUS_USER_APC"          # also WAIT_IO_COMPLETION
    assert name_of(0x80) == "STATUS_ABANDONED"         # also WAIT_ABANDONED_0


def test_name_of_falls_back_to_other_families_without_kind():
    assert name_of(183) == "ERROR_ALREADY_EXISTS"
    assert name_of(87) == "ERROR_INVALID_PARAMETER"
    assert name_of(0xFFFFFFFF) == "WAIT_FAILED"
    assert name_of(0xC4) == "DRIVER_VERIFIER_DETECTED_VIOLATION"
    assert name_of(0x100000) == "SYNCHRONIZE"


def test_name_of_error_and_bugcheck_kinds():
    assert name_of(2, kind="error") == "ERROR_FILE_NOT_FOUND"
    assert name_of(6, kind="error") == "ERROR_INVALID_HANDLE"
    assert name_of(0xC, kind="bugcheck") == "MAXIMUM_WAIT_OBJECTS_EXCEEDED"
    assert name_of(0xB8, kind="bugcheck") == "ATTEMPTED_SWITCH_FROM_DPC"
    assert name_of(0x93, kind="bugcheck") == "INVALID_KERNEL_HANDLE"


def test_name_of_access_kind_names_the_mask():
    assert name_of(0x100002, kind="access") == "SYNCHRONIZE | EVENT_MODIFY_STATE"
    assert name_of(0x1F0003, kind="access") == "EVENT_ALL_ACCESS"


def test_name_of_unknown_value_is_hex():
    assert name_of(0xC0001234) == "0xC0001234"
    assert name_of(0xC0001234, kind="status") == "0xC0001234"
    assert name_of(0x102, kind="error") == "0x00000102"
    assert name_of(0x1, kind="bugcheck") == "0x00000001"


def test_name_of_reads_a_negative_long_as_its_unsigned_ntstatus():
    assert name_of(0xC0000034 - (1 << 32)) == "STATUS_OBJECT_NAME_NOT_FOUND"
    assert name_of(-1, kind="wait") == "WAIT_FAILED"


def test_name_of_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        name_of(0, kind="hresult")


def test_name_of_rejects_a_non_integer():
    with pytest.raises(TypeError):
        name_of("0xC0000034")


def test_name_of_gives_back_a_name_of_the_same_value_for_every_status_and_error():
    for name in st.__all__:
        if name.startswith("STATUS_"):
            assert getattr(st, name_of(getattr(st, name), "status")) == getattr(st, name)
        elif name.startswith("ERROR_"):
            assert getattr(st, name_of(getattr(st, name), "error")) == getattr(st, name)


# --- access_names -----------------------------------------------------------------------------

def test_access_names_lists_rights_highest_bit_first():
    assert access_names(st.SYNCHRONIZE | st.EVENT_MODIFY_STATE) == "SYNCHRONIZE | EVENT_MODIFY_STATE"
    assert access_names(st.SYNCHRONIZE | st.EVENT_QUERY_STATE) == "SYNCHRONIZE | EVENT_QUERY_STATE"


def test_access_names_names_event_all_access_whole_only_on_exact_match():
    assert access_names(st.EVENT_ALL_ACCESS) == "EVENT_ALL_ACCESS"
    assert access_names(st.EVENT_ALL_ACCESS & ~st.EVENT_MODIFY_STATE) == (
        "SYNCHRONIZE | WRITE_OWNER | WRITE_DAC | READ_CONTROL | DELETE | EVENT_QUERY_STATE")


def test_access_names_of_zero_is_zero():
    assert access_names(0) == "0"


def test_access_names_shows_generic_rights_and_unnamed_bits():
    assert access_names(st.GENERIC_READ | st.GENERIC_WRITE) == "GENERIC_READ | GENERIC_WRITE"
    assert access_names(st.MAXIMUM_ALLOWED) == "MAXIMUM_ALLOWED"
    assert access_names(st.SYNCHRONIZE | 0x4) == "SYNCHRONIZE | 0x00000004"


# --- severity ---------------------------------------------------------------------------------

def test_nt_success_holds_for_wait_results_timeout_and_pending():
    for status in (st.STATUS_SUCCESS, st.STATUS_WAIT_1, st.STATUS_WAIT_63, st.STATUS_ABANDONED,
                   st.STATUS_USER_APC, st.STATUS_ALERTED, st.STATUS_TIMEOUT, st.STATUS_PENDING):
        assert NT_SUCCESS(status), name_of(status)
        assert not NT_ERROR(status) and not NT_WARNING(status) and not NT_INFORMATION(status)


def test_nt_success_holds_for_object_name_exists_which_is_informational():
    assert NT_SUCCESS(st.STATUS_OBJECT_NAME_EXISTS)
    assert NT_INFORMATION(st.STATUS_OBJECT_NAME_EXISTS)
    assert not NT_ERROR(st.STATUS_OBJECT_NAME_EXISTS)


def test_nt_success_fails_for_errors_and_warnings():
    errors = [getattr(st, n) for n in st.__all__ if n.startswith("STATUS_")
              and getattr(st, n) >= 0xC0000000]
    assert len(errors) >= 20
    for status in errors:
        assert not NT_SUCCESS(status) and NT_ERROR(status), name_of(status)
    assert NT_WARNING(0x80000005) and not NT_SUCCESS(0x80000005)   # STATUS_BUFFER_OVERFLOW


def test_severity_tests_read_a_negative_long_as_unsigned():
    access_denied_as_long = st.STATUS_ACCESS_DENIED - (1 << 32)
    assert not NT_SUCCESS(access_denied_as_long)
    assert NT_ERROR(access_denied_as_long)


# --- RtlNtStatusToDosError ----------------------------------------------------------------------

@pytest.mark.parametrize("status,error", [
    ("STATUS_OBJECT_NAME_NOT_FOUND", "ERROR_FILE_NOT_FOUND"),
    ("STATUS_OBJECT_PATH_NOT_FOUND", "ERROR_PATH_NOT_FOUND"),
    ("STATUS_OBJECT_TYPE_MISMATCH", "ERROR_INVALID_HANDLE"),
    ("STATUS_OBJECT_NAME_INVALID", "ERROR_INVALID_NAME"),
    ("STATUS_OBJECT_PATH_SYNTAX_BAD", "ERROR_BAD_PATHNAME"),
    ("STATUS_OBJECT_PATH_INVALID", "ERROR_BAD_PATHNAME"),
    ("STATUS_ACCESS_DENIED", "ERROR_ACCESS_DENIED"),
    ("STATUS_INVALID_HANDLE", "ERROR_INVALID_HANDLE"),
    ("STATUS_HANDLE_NOT_CLOSABLE", "ERROR_INVALID_HANDLE"),
    ("STATUS_INVALID_PARAMETER", "ERROR_INVALID_PARAMETER"),
    ("STATUS_INVALID_PARAMETER_MIX", "ERROR_INVALID_PARAMETER"),
    ("STATUS_OBJECT_NAME_EXISTS", "ERROR_ALREADY_EXISTS"),
    ("STATUS_OBJECT_NAME_COLLISION", "ERROR_ALREADY_EXISTS"),
    ("STATUS_PENDING", "ERROR_IO_PENDING"),
    ("STATUS_TIMEOUT", "ERROR_TIMEOUT"),
    ("STATUS_CANCELLED", "ERROR_OPERATION_ABORTED"),
    ("STATUS_INSUFFICIENT_RESOURCES", "ERROR_NO_SYSTEM_RESOURCES"),
    ("STATUS_NO_MEMORY", "ERROR_NOT_ENOUGH_MEMORY"),
    ("STATUS_BUFFER_TOO_SMALL", "ERROR_INSUFFICIENT_BUFFER"),
    ("STATUS_NOT_IMPLEMENTED", "ERROR_INVALID_FUNCTION"),
    ("STATUS_INVALID_DEVICE_REQUEST", "ERROR_INVALID_FUNCTION"),
    ("STATUS_NOT_SUPPORTED", "ERROR_NOT_SUPPORTED"),
    ("STATUS_NAME_TOO_LONG", "ERROR_FILENAME_EXCED_RANGE"),
    ("STATUS_UNSUCCESSFUL", "ERROR_GEN_FAILURE"),
    ("STATUS_NOT_FOUND", "ERROR_NOT_FOUND"),
])
def test_nt_status_maps_to_the_win32_error_ntdll_gives(status, error):
    assert nt_status_to_win32_error(getattr(st, status)) == getattr(st, error)


def test_nt_status_success_maps_to_error_success():
    assert nt_status_to_win32_error(st.STATUS_SUCCESS) == st.ERROR_SUCCESS


def test_nt_status_without_mapping_gives_error_mr_mid_not_found():
    assert nt_status_to_win32_error(0xC0001234) == st.ERROR_MR_MID_NOT_FOUND
    assert nt_status_to_win32_error(st.STATUS_WAIT_1) == st.ERROR_MR_MID_NOT_FOUND


def test_nt_status_mapping_reads_0xd_as_0xc_and_passes_customer_codes_through():
    assert nt_status_to_win32_error(0xD0000034) == st.ERROR_FILE_NOT_FOUND
    assert nt_status_to_win32_error(0xE0000001) == 0xE0000001


def test_nt_status_mapping_accepts_a_negative_long():
    assert nt_status_to_win32_error(st.STATUS_ACCESS_DENIED - (1 << 32)) == st.ERROR_ACCESS_DENIED


# --- exports ----------------------------------------------------------------------------------

def test_all_lists_every_public_name_and_only_real_ones():
    public = {n for n in vars(st) if not n.startswith("_")}
    assert set(st.__all__) == public
    assert len(st.__all__) == len(set(st.__all__))
    for name in st.__all__:
        assert hasattr(st, name), name


def test_star_import_brings_in_every_name_in_all():
    namespace = {}
    exec("from evtsim.status import *", namespace)
    missing = set(st.__all__) - set(namespace)
    assert not missing
    for name in ("STATUS_WAIT_63", "WAIT_FAILED", "INFINITE", "EVENT_ALL_ACCESS", "SYNCHRONIZE",
                 "NT_SUCCESS", "name_of", "access_names", "nt_status_to_win32_error"):
        assert name in namespace


def test_status_module_imports_nothing_from_the_rest_of_evtsim():
    import ast
    import inspect
    tree = ast.parse(inspect.getsource(st))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("evtsim")
        elif isinstance(node, ast.Import):
            assert not any(a.name.startswith("evtsim") for a in node.names)
