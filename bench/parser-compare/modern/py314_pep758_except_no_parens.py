try:
    int("x")
except ValueError, TypeError:
    print("bad value")
