def handle():
    try:
        raise ExceptionGroup("group", [ValueError(1), TypeError(2)])
    except* ValueError as eg:
        print("values", eg.exceptions)
    except* TypeError:
        print("types")
