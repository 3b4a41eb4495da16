"""Present, like the real module; never reached (``aws`` fails first)."""
