"""Turn the composite action (action.yml) into a workflow that actionlint can lint.

actionlint lints workflow files, not action metadata. The composite action's steps run exactly as
a job's steps would, so they are linted as one job of a `workflow_dispatch` workflow whose inputs
are the action's inputs (`inputs.*` then type-checks). Before that, the metadata itself is checked:
a composite action, every `run` step has a `shell`, every output names an existing step id.

Usage: python3 .ci/action_workflow.py action.yml OUT.yml
"""

import re
import sys

import yaml


def main(src: str, out: str) -> int:
    with open(src, encoding="utf-8") as f:
        action = yaml.safe_load(f)
    problems = []
    for key in ("name", "description", "runs"):
        if key not in action:
            problems.append(f"missing `{key}`")
    runs = action.get("runs", {})
    if runs.get("using") != "composite":
        problems.append("runs.using must be `composite`")
    steps = runs.get("steps") or []
    ids = {s.get("id") for s in steps if s.get("id")}
    for i, step in enumerate(steps, 1):
        if "run" in step and "shell" not in step:
            problems.append(f"step {i} ({step.get('name', '')}): `run` without `shell`")
        if "run" not in step and "uses" not in step:
            problems.append(f"step {i}: neither `run` nor `uses`")
    inputs = action.get("inputs") or {}
    for name, spec in (action.get("outputs") or {}).items():
        for ref in re.findall(r"steps\.([A-Za-z0-9_-]+)\.", str(spec.get("value", ""))):
            if ref not in ids:
                problems.append(f"output `{name}` refers to unknown step id `{ref}`")
    for m in re.finditer(r"inputs\.([A-Za-z0-9_-]+)", yaml.safe_dump(steps)):
        if m.group(1) not in inputs:
            problems.append(f"`inputs.{m.group(1)}` is not declared")
    for p in problems:
        print(f"{src}: {p}", file=sys.stderr)
    if problems:
        return 1
    workflow = {
        "name": f"{action['name']} (composite action as a workflow)",
        "on": {
            "workflow_dispatch": {
                "inputs": {
                    name: {
                        "description": spec.get("description", name),
                        "required": bool(spec.get("required", False)),
                        "default": str(spec.get("default", "")),
                    }
                    for name, spec in inputs.items()
                }
            }
        },
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": steps}},
    }
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump(workflow, f, sort_keys=False, width=1000)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
