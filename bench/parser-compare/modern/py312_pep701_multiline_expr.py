items = [1, 2, 3]
summary = f"total: {
    sum(
        x * 2  # doubled
        for x in items
    )
}"
print(summary)
