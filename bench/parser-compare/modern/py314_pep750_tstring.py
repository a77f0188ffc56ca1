name = "world"
template = t"hello {name}"
raw = rt"raw\d {name!r:>10}"
print(template, raw)
