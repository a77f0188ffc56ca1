def describe(cmd):
    match cmd:
        case {"action": "move", "to": (x, y)}:
            return f"move {x},{y}"
        case [first, *rest] if rest:
            return first
        case Point(x=0, y=0) | None:
            return "origin"
        case str() as s:
            return s
        case _:
            return "unknown"


class Point:
    __match_args__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y
