"""The call surfaces: `kernel` (Ke/Io/Zw/Ob/Ps), `win32` (kernel32) and, later,
`driverworks`. Each routine returns a call that a thread yields."""
