def first[T](xs: list[T]) -> T:
    return xs[0]


def identity[T](x: T) -> T:
    return x


def pair[K: str, *Ts, **P](k: K) -> K:
    return k
