type Alias = list[int]
type Pair[T] = tuple[T, T]
type Json = dict[str, "Json"] | list["Json"] | str | int | float | bool | None
