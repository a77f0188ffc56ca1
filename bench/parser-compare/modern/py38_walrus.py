import re

data = ["a1", "b", "c22"]
matches = [m.group(0) for s in data if (m := re.search(r"\d+", s))]
while (n := len(data)) > 0:
    data.pop()
if (count := len(matches)) > 1:
    print(count, n)
