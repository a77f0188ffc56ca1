cfg = {"host": "localhost", "port": 8188}
url = f"http://{cfg["host"]}:8188"
nested = f"{f"{f"{cfg["port"]}"}"}"
print(url, nested)
