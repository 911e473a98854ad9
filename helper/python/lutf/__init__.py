"""lutf: the Python side of the LNet Unit Test Framework (standard library only)."""
