"""Root conftest: its presence puts the project root on sys.path, so `agent` and `tests.fixtures`
references resolve; the harness plugin itself loads through its `pytest11` entry point."""
