words = ["a", "b", "c"]
joined = f"{'\n'.join(words)}"
tabbed = f"{'\t'.join(words)!r}"
print(joined, tabbed)
