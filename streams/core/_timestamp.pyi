"""The intake's timestamp parser in C (`_timestamp.c`); `intake._fast_micros` in Python."""

def micros(text: str, /) -> int:
    """Epoch microseconds of YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM), or -1."""
