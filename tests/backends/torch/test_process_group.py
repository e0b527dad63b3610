"""join_gloo_group: a group it starts is really ended by destroy_process_group, with no gloo
thread left running into the interpreter's exit, even when torch imports the module that
captures ``group.WORLD`` (via ``torch._dynamo``, as the first optimiser does) while the group
is open."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

# a fresh interpreter: this one may have imported torch.distributed.nn already
PROGRAM = textwrap.dedent(
    """
    import os, sys, time
    import torch
    import torch.distributed as dist
    from rasp_ir.backends.torch.process_group import join_gloo_group

    def gloo_threads():
        names = []
        for task in os.listdir("/proc/self/task"):
            try:
                names.append(open(f"/proc/self/task/{task}/comm").read().strip())
            except FileNotFoundError:  # a thread that ended while they were read
                continue
        return sorted(name for name in names if "gloo" in name)

    def gloo_threads_once(running):
        # threads name themselves once started, and a joined one can stay listed for a moment
        # while the kernel releases it: wait up to 2 s for the state asked for
        for _ in range(200):
            if bool(gloo_threads()) == running:
                break
            time.sleep(0.01)
        return gloo_threads()

    join_gloo_group(init_method="file://" + sys.argv[1], rank=0, world_size=1)
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.Adam([weight])  # loads torch._dynamo, and with it torch.distributed.nn
    weight.sum().backward()
    optimizer.step()
    dist.all_reduce(torch.ones(2))
    threads_open = gloo_threads_once(running=True)
    dist.destroy_process_group()
    print("open:", threads_open)
    print("after destroy:", gloo_threads_once(running=False))
    print("dynamo loaded:", "torch._dynamo" in sys.modules)
    """
)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads threads from /proc")
def test_destroying_the_group_stops_every_gloo_thread(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] != "open: []", done.stdout  # the group ran gloo threads
    assert lines[1:] == ["after destroy: []", "dynamo loaded: True"], done.stdout


def _calls_init_process_group(path: Path) -> list[int]:
    """The lines of ``path`` that call ``init_process_group`` (by any qualified name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == "init_process_group")
            or (isinstance(node.func, ast.Name) and node.func.id == "init_process_group")
        )
    ]


def test_every_process_group_the_project_starts_is_joined_through_join_gloo_group() -> None:
    """A direct ``init_process_group`` elsewhere would bring back the group that outlives its
    destruction (and the aborts at exit that come with it)."""
    helper = ROOT / "backends" / "torch" / "process_group.py"
    folders = ("backends", "frontends", "kernels", "benchmarks", "rasp_ir", "tests", "examples")
    files = {p.resolve() for folder in folders for p in (ROOT / folder).rglob("*.py")}
    assert helper.resolve() in files and len(files) > 100
    direct = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(files - {helper.resolve()})
        if ROOT in path.parents
        for line in _calls_init_process_group(path)
    ]
    assert direct == []
    assert _calls_init_process_group(helper)
